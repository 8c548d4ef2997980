// Losses of the model toolkit in WGSL, the float32 counterparts of src/nn/losses.ts: softmax
// cross-entropy, mean squared error and Gaussian NLL (d means, d softplus stds). One invocation per
// row writes ∂loss/∂output for the row and the row's share of the minibatch-mean loss into
// rowLoss (so the loss is Σ rowLoss, summed on the host in float64: the only readback of a step).

/** Loss codes in the uniforms. */
export const LOSS_CODE = { 'cross-entropy': 0, mse: 1, 'gaussian-nll': 2 } as const;

export const lossSource = /* wgsl */ `
struct Params { rows: u32, cols: u32, kind: u32, rowSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> out: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;

const MIN_STD: f32 = 1e-4;
const HALF_LOG_2PI: f32 = 0.9189385332046727;

// log(1 + x) with full relative precision for small x (the classic u = 1 + x correction).
fn log1pf(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}

fn softplus(x: f32) -> f32 { return max(x, 0.0) + log1pf(exp(-abs(x))); }
fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

fn crossEntropy(r: u32) -> f32 {
  let cols = params.cols;
  let o = r * cols;
  let label = u32(targets[r]);
  var mx = out[o];
  for (var j = 1u; j < cols; j++) { mx = max(mx, out[o + j]); }
  var sum = 0.0;
  for (var j = 0u; j < cols; j++) { sum += exp(out[o + j] - mx); }
  let lse = mx + log(sum);
  let inv = 1.0 / f32(params.rows);
  for (var j = 0u; j < cols; j++) {
    let p = exp(out[o + j] - lse);
    dOut[o + j] = (p - select(0.0, 1.0, j == label)) * inv;
  }
  return (lse - out[o + label]) * inv;
}

fn meanSquared(r: u32) -> f32 {
  let cols = params.cols;
  let inv = 1.0 / f32(params.rows * cols);
  var total = 0.0;
  for (var j = 0u; j < cols; j++) {
    let i = r * cols + j;
    let d = out[i] - targets[i];
    total += d * d;
    dOut[i] = 2.0 * d * inv;
  }
  return total * inv;
}

fn gaussianNll(r: u32) -> f32 {
  let cols = params.cols;
  let d = cols / 2u;
  let inv = 1.0 / f32(params.rows);
  var total = 0.0;
  for (var j = 0u; j < d; j++) {
    let mu = out[r * cols + j];
    let raw = out[r * cols + d + j];
    let s = softplus(raw) + MIN_STD;
    let e = targets[r * d + j] - mu;
    total += HALF_LOG_2PI + log(s) + e * e / (2.0 * s * s);
    dOut[r * cols + j] = -e / (s * s) * inv;
    dOut[r * cols + d + j] = (1.0 / s - e * e / (s * s * s)) * sigmoid(raw) * inv;
  }
  return total * inv;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * params.rowSize + gid.x;
  if (r >= params.rows) { return; }
  var loss = 0.0;
  if (params.kind == 0u) { loss = crossEntropy(r); }
  else if (params.kind == 1u) { loss = meanSquared(r); }
  else { loss = gaussianNll(r); }
  rowLoss[r] = loss;
}
`;
