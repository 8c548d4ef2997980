// Element-wise layer kernels of the model toolkit in WGSL, each the float32 counterpart of a JsOps
// method (src/nn/ops.ts): bias add, bias gradient (column sums), and the activations forward and
// backward (in place on the gradient). One invocation per element (per column for the bias
// gradient), 64 per workgroup, on a 2-D grid flattened with rowSize as in gpu/prelude.wgsl.ts.

/** Activation codes in the uniforms: the order of ActivationKind. */
export const ACTIVATION_CODE = { relu: 0, gelu: 1, tanh: 2 } as const;

const entry = (body: string) => /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let inv = gid.y * params.rowSize + gid.x;
${body}
}
`;

/** y[offY + r·cols + j] += bias[offB + j] for r < rows. */
export const biasAddSource = /* wgsl */ `
struct Params { rows: u32, cols: u32, offY: u32, offB: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${entry(`  if (inv >= params.rows * params.cols) { return; }
  y[params.offY + inv] += bias[params.offB + inv % params.cols];`)}`;

/** db[offB + j] = Σ_r dy[offY + r·cols + j] (overwrites), rows summed in order. */
export const biasGradSource = /* wgsl */ `
struct Params { rows: u32, cols: u32, offY: u32, offB: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
${entry(`  if (inv >= params.cols) { return; }
  var s = 0.0;
  for (var r = 0u; r < params.rows; r++) { s += dy[params.offY + r * params.cols + inv]; }
  db[params.offB + inv] = s;`)}`;

const activationFns = /* wgsl */ `
const GELU_C: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_A: f32 = 0.044715;

// tanh that stays finite for large |x| (some compilers evaluate tanh through exp(2x)).
fn safeTanh(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn activate(kind: u32, x: f32) -> f32 {
  if (kind == 0u) { return max(x, 0.0); }
  if (kind == 2u) { return safeTanh(x); }
  return 0.5 * x * (1.0 + safeTanh(GELU_C * (x + GELU_A * x * x * x)));
}

fn slope(kind: u32, x: f32, y: f32) -> f32 {
  if (kind == 0u) { return select(0.0, 1.0, y > 0.0); }
  if (kind == 2u) { return 1.0 - y * y; }
  let t = safeTanh(GELU_C * (x + GELU_A * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x);
}
`;

/** y[offY + i] = f(x[offX + i]). */
export const activationSource = /* wgsl */ `
struct Params { count: u32, kind: u32, offX: u32, offY: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${activationFns}
${entry(`  if (inv >= params.count) { return; }
  y[params.offY + inv] = activate(params.kind, x[params.offX + inv]);`)}`;

/** d[offD + i] *= f'(x[offX + i]) given the output y (in place: dx overwrites dy). */
export const activationBackwardSource = /* wgsl */ `
struct Params { count: u32, kind: u32, offX: u32, offY: u32, offD: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> d: array<f32>;
${activationFns}
${entry(`  if (inv >= params.count) { return; }
  let i = params.offD + inv;
  d[i] = d[i] * slope(params.kind, x[params.offX + inv], y[params.offY + inv]);`)}`;
