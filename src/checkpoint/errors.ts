// One error class for everything that can go wrong with a checkpoint, so callers can tell "this
// file is bad" (CheckpointError) apart from bugs, and every message says what to do about it.
// A checkpoint is attacker-controlled input: its strings reach our messages only through
// `quote`/`describe` (at most QUOTE_LIMIT characters each, never a recursive walk of a nested
// value), and the constructor caps the whole message, so a hostile file cannot make an error
// message megabytes long or overflow the stack while one is built.

/** Longest quoted attacker string in a message, in characters (an ellipsis marks the cut). */
export const QUOTE_LIMIT = 200;
/** Longest problem / fix part of a message, in characters. */
const PROBLEM_LIMIT = 1000;
const FIX_LIMIT = 300;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';

  constructor(problem: string, fix: string) {
    super(`${truncate(problem, PROBLEM_LIMIT)}. ${truncate(fix, FIX_LIMIT)}`);
  }
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** A string from the file, JSON-quoted and cut to QUOTE_LIMIT characters. */
export function quote(text: string): string {
  return text.length <= QUOTE_LIMIT ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, QUOTE_LIMIT))}… (${text.length} characters)`;
}

/** Any decoded JSON value, described without walking into it (no recursion, bounded length). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
