// JSON nesting bound, checked on the text before JSON.parse: a checkpoint's header and its JSON
// metadata values nest at most 3 levels, while a hostile file can nest thousands deep, and any
// recursive walk of such a value (validation, String(), structured clone, a user's own code)
// overflows the stack. One linear scan, outside string literals, counts the depth of [ and {.

import { CheckpointError } from './errors.js';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Throws a CheckpointError when `text` (JSON or not) nests objects/arrays deeper than `maxDepth`. */
export function checkJsonDepth(what: string, text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        throw new CheckpointError(
          `${what} nests arrays/objects more than ${maxDepth} deep (at character ${i})`,
          'The file is corrupt or hostile: a checkpoint written by this library never nests that deep',
        );
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
}
