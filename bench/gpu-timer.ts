// GPU time of queued work from timestamp queries, without touching the kernel runner: an empty
// compute pass before the work and one after, each writing a timestamp at the end of the pass.
// On Vulkan (Dawn) an end-of-pass timestamp is written once all previously submitted work has
// finished, so (after − before) is the GPU time of everything submitted in between, including any
// gaps between its submits. Some implementations quantise timestamps (Chrome: 100 µs) — compare
// with host time, and use sizes where a step takes milliseconds.

const QUERY_RESOLVE = 0x0200;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const MAP_READ = 0x0001;

export class GpuTimer {
  private constructor(
    private readonly device: GPUDevice,
    private readonly querySet: GPUQuerySet,
    private readonly resolve: GPUBuffer,
    private readonly readback: GPUBuffer,
  ) {}

  /** A timer, or the reason there is none (no timestamp-query feature on the device). */
  static create(device: GPUDevice): GpuTimer | string {
    if (!device.features.has('timestamp-query')) return "the device has no 'timestamp-query' feature (host time only)";
    try {
      const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
      const resolve = device.createBuffer({ size: 16, usage: QUERY_RESOLVE | COPY_SRC });
      const readback = device.createBuffer({ size: 16, usage: MAP_READ | COPY_DST });
      return new GpuTimer(device, querySet, resolve, readback);
    } catch (error) {
      return `timestamp queries failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** Submits the marker that writes timestamp `index` (0 before the work, 1 after). */
  mark(index: 0 | 1): void {
    const encoder = this.device.createCommandEncoder();
    encoder.beginComputePass({ timestampWrites: { querySet: this.querySet, endOfPassWriteIndex: index } }).end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** GPU milliseconds between the two markers (call after both were submitted). */
  async elapsedMs(): Promise<number> {
    const encoder = this.device.createCommandEncoder();
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
    this.device.queue.submit([encoder.finish()]);
    await this.readback.mapAsync(1);
    const [before, after] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return Number(after - before) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}
