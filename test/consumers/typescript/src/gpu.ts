// WebGPU interop with full WebGPU types (TypeScript 5 with @webgpu/types; TypeScript 6's DOM lib
// has them built in): the library's GPU types are the real ones, not placeholders.
import { createRuntime, type BufferBinding } from 'ivon-edge';

export function bindingBytes(binding: BufferBinding): number {
  return binding.buffer.size - binding.offset;
}

export async function withDevice(device: GPUDevice): Promise<string> {
  const rt = await createRuntime({ backend: 'webgpu', gpu: { device, powerPreference: 'high-performance' } });
  const label: string = device.label;
  await rt.dispose();
  return `${rt.backend} on ${label}`;
}
