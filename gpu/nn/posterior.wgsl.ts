// The two element-wise kernels the linearised prediction variance (src/posterior/linearised-gpu.ts)
// needs beside the toolkit's GEMM, bias and activation kernels: the element-wise square of a layer's
// input, and the per-row weighted sum of squared errors that adds one layer's share to the variance.
// Same 2-D grid convention as layers.wgsl.ts.

const entry = (body: string) => /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let inv = gid.y * params.rowSize + gid.x;
${body}
}
`;

/** y[offY + i] = x[offX + i]². */
export const squareSource = /* wgsl */ `
struct Params { count: u32, offX: u32, offY: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${entry(`  if (inv >= params.count) { return; }
  let v = x[params.offX + inv];
  y[params.offY + inv] = v * v;`)}`;

/**
 * For each of the seeds·rows error rows r = k·rows + i (one invocation each):
 * v[offV + i·seeds + k] += Σ_p d[offD + r·cols + p]² · s[offS + i·cols + p].
 */
export const squaredErrorDotSource = /* wgsl */ `
struct Params { rows: u32, cols: u32, seeds: u32, offD: u32, offS: u32, offV: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${entry(`  if (inv >= params.rows * params.seeds) { return; }
  let k = inv / params.rows;
  let i = inv % params.rows;
  let dRow = params.offD + inv * params.cols;
  let sRow = params.offS + i * params.cols;
  var acc = 0.0;
  for (var p = 0u; p < params.cols; p++) {
    let e = d[dRow + p];
    acc += e * e * s[sRow + p];
  }
  let o = params.offV + i * params.seeds + k;
  v[o] = v[o] + acc;`)}`;
