// The WGSL every kernel shares, generated once so a kernel author writes only the body: the
// uniform block (one layout for all kernels, so the runner can fill it without knowing the kernel),
// the storage declarations from the kernel's descriptor, and the entry point that flattens the
// 2-D dispatch grid (needed past 65535 workgroups in one dimension) into one invocation index.

/** How a kernel sees one storage binding. */
export interface StorageBinding {
  readonly name: string;
  readonly access: 'read' | 'read_write';
  readonly type: 'vec4<f32>' | 'f32' | 'vec4<u32>' | 'atomic<u32>';
}

/** Threads per workgroup for every kernel (SwiftShader and every adapter allow 64). */
export const WORKGROUP_SIZE = 64;

/** Bytes of the uniform block; the runner writes exactly this layout (see kernel-runner.ts). */
export const PARAMS_BYTES = 96;

/**
 * base: first element of the chunk inside the bound window; count: elements in the chunk;
 * first: global element index of the chunk's first element (drives the RNG); rowSize:
 * invocations per grid row. ints0/ints1/f0..f2: the kernel's own scalars (docs/KERNELS.md order).
 */
const paramsStruct = /* wgsl */ `
struct Params {
  base: u32,
  count: u32,
  first: u32,
  rowSize: u32,
  ints0: vec4<u32>,
  ints1: vec4<u32>,
  f0: vec4<f32>,
  f1: vec4<f32>,
  f2: vec4<f32>,
}
@group(0) @binding(0) var<uniform> params: Params;

// Which lanes of the vec4 that starts 'done' elements into the chunk are inside it.
fn laneMask(done: u32) -> vec4<bool> {
  let rem = params.count - done;
  return vec4<bool>(rem > 0u, rem > 1u, rem > 2u, rem > 3u);
}
`;

/** The full module source for a kernel whose body defines `fn run(inv: u32, lid: u32)`. */
export function kernelModule(storage: readonly StorageBinding[], body: string): string {
  const declarations = storage
    .map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`)
    .join('\n');
  return `${paramsStruct}
${declarations}
${body}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  run(gid.y * params.rowSize + gid.x, lid);
}
`;
}
