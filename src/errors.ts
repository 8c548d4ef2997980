// Error classes users can catch by kind. Every message says what was wrong and how to fix it;
// every throw happens before any optimizer state changes.

/** An invalid option or hyper-parameter (constructor, setLr, restore). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The API was used in the wrong order or with wrong arguments (unknown names, wrong lengths...). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A gradient contained NaN or ±Infinity (nonFinite: 'error'). Nothing was accumulated. */
export class NonFiniteGradientError extends Error {
  override name = 'NonFiniteGradientError';
  constructor(
    message: string,
    /** Number of non-finite entries per parameter name. */
    readonly counts: Record<string, number>,
  ) {
    super(message);
  }
}
