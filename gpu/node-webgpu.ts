// WebGPU for Node through Dawn (npm `webgpu`). Dawn's create() result must stay strongly
// referenced while any device lives: if it is garbage-collected first, the process aborts
// (../shared/PLATFORM.md). So it is created once and parked on globalThis; teardown destroys the
// devices made through it and drops it, so Node can exit.

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

interface DawnHolder {
  gpu: GPU;
  devices: Set<GPUDevice>;
}

const HOLDER = Symbol.for('ivon-edge.webgpu.dawn');
// A variable specifier keeps bundlers from pulling the native module into browser builds.
const DAWN_PACKAGE = 'webgpu';

type HolderSlot = { [HOLDER]?: DawnHolder };

/** Dawn's GPU object, or undefined when the `webgpu` package cannot be loaded here. */
export async function getNodeGpu(): Promise<GPU | undefined> {
  const slot = globalThis as HolderSlot;
  if (slot[HOLDER]) return slot[HOLDER].gpu;
  if (!(await mayHaveVulkanDriver())) return undefined;
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ DAWN_PACKAGE)) as DawnModule;
  } catch {
    return undefined;
  }
  const gpu = dawn.create([]);
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  slot[HOLDER] = { gpu, devices: new Set() };
  return gpu;
}

/**
 * Dawn on Linux needs a Vulkan driver. Without one it prints loader warnings to stderr on every
 * probe, so look where the Vulkan loader looks (its environment overrides, then the standard ICD
 * folders) before loading Dawn at all. Other platforms: let Dawn decide.
 */
async function mayHaveVulkanDriver(): Promise<boolean> {
  if (typeof process === 'undefined' || process.platform !== 'linux') return true;
  const env = process.env;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return true;
  try {
    const { readdirSync } = await import('node:fs');
    const dataDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
    const folders = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => `${d}/vulkan/icd.d`)];
    return folders.some((folder) => {
      try {
        return readdirSync(folder).some((f) => f.endsWith('.json'));
      } catch {
        return false;
      }
    });
  } catch {
    return true;
  }
}

/** Remembers a device made from Dawn's GPU so teardown can destroy it. */
export function trackNodeDevice(device: GPUDevice): void {
  (globalThis as HolderSlot)[HOLDER]?.devices.add(device);
}

/** Destroys every tracked device and releases Dawn's GPU object (call once, at process teardown). */
export function releaseNodeGpu(): void {
  const slot = globalThis as HolderSlot;
  const holder = slot[HOLDER];
  if (!holder) return;
  for (const device of holder.devices) device.destroy();
  holder.devices.clear();
  delete slot[HOLDER];
}
