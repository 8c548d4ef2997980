// Why kernel constants live in memory: V8 (Node 20, TurboFan) rebuilds every v128.const inside a
// loop with three instructions (mov imm64, movq, punpcklqdq) and spills the overflow, while a
// v128.load32_splat from a static table is one vbroadcastss. Measured on fillNormal: 170 -> 220
// M normals/s. The tables are static data below __heap_base (exported as heapBase() so the host
// allocator starts above them); instantiating in another worker rewrites the same bytes.

/** The 32-bit constant at `table` + 4·`index`, in all four lanes. */
// @ts-ignore: decorator
@inline export function splatAt(table: usize, index: i32): v128 {
  return v128.load32_splat(table + (<usize>index << 2));
}

/** First byte the host may allocate: everything below holds the kernels' static tables. */
export function heapBase(): usize {
  return __heap_base;
}
