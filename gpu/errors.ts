// Errors the WebGPU backend throws, by kind, so the optimizer layer can fail over on device loss
// and users get a message that says what to do.

/** The GPUDevice was lost (driver reset, device.destroy(), tab backgrounded...). Nothing on it survives. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    /** 'destroyed' or 'unknown', as GPUDeviceLostInfo reports it. */
    readonly reason: string,
    readonly detail: string,
  ) {
    super(
      `The WebGPU device was lost (reason: ${reason}${detail ? `, ${detail}` : ''}). ` +
        `Its buffers are gone: restore from a snapshot on a new device or on backend 'wasm'.`,
    );
  }
}

/** No WebGPU implementation or no adapter in this environment. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** The adapter's limits are below what the kernels need, or a buffer would exceed them. */
export class WebGpuLimitError extends Error {
  override name = 'WebGpuLimitError';
}
