// One error class for everything that can go wrong with a checkpoint, so callers can tell "this
// file is bad" (CheckpointError) apart from bugs, and every message says what to do about it.

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';

  constructor(problem: string, fix: string) {
    super(`${problem}. ${fix}`);
  }
}
