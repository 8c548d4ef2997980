// WebGPU's flag constants as numbers. They are fixed by the specification; using them directly
// means nothing here depends on the GPUBufferUsage/GPUMapMode globals, which Node (Dawn) only has
// after `globals` are installed and some embedders never install.

export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MapMode = { READ: 0x0001 } as const;

export const ShaderStage = { COMPUTE: 0x0004 } as const;
