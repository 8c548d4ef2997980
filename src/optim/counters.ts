// How far an optimizer's counters may run. The noise of step t, sample s is Philox's counter
// (element, sample, step, stream) with 32-bit words (docs/KERNELS.md §1), so the step count and the
// prediction-draw count are bounded by what those words can address. Shared by restore() and the
// checkpoint decoder, so a file the decoder accepts is one restore() takes.

/** The most completed (and skipped) steps: a step draws the next step's first sample at t + 1. */
export const MAX_STEPS = 2 ** 32 - 2;

/** The most prediction draws: each indexes the counter's 32-bit sample word. */
export const MAX_PREDICT_DRAWS = 2 ** 32;
