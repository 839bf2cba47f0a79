// Docker's detach keys (`--detach-keys`): the format moby/term's ToBytes reads,
// and the filter that finds the sequence in a terminal's input.
import { NboxError } from '../errors';

/** DEFAULT_DETACH_KEYS is Docker's default sequence: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [16, 17];

// ctrl-@ is 0, ctrl-a 1 … ctrl-z 26, then ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ (27-31).
const CONTROL_NAMES = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** parseDetachKeys reads a comma-separated sequence of single characters,
 * `ctrl-<@, a-z, [, \, ], ^ or _>` and `DEL`, as Docker does; anything else is
 * Docker's one line. An empty value is the default sequence. */
export function parseDetachKeys(keys: string): number[] {
  if (keys === '') return [...DEFAULT_DETACH_KEYS];
  return keys.split(',').map((key) => {
    // Go's len() counts bytes: one byte is that byte, whatever it is.
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length === 1) return bytes[0];
    const control = key.startsWith('ctrl-') && key.length === 6 ? CONTROL_NAMES.indexOf(key[5]) : -1;
    if (control >= 0) return control;
    if (key === 'DEL') return 127;
    throw new NboxError('ERR_NBOX_USAGE', `invalid detach keys (${keys}): Unknown character: '${key}'`);
  });
}

/** DetachFilter passes a terminal's input on until it holds the detach
 * sequence. A partial match is held back until the next byte shows whether it
 * was the sequence (then it is dropped) or input (then it is passed on, as
 * moby/term's escape proxy does). Unlike that proxy, which only matches keys
 * read one at a time, the sequence is found anywhere in a chunk. */
export class DetachFilter {
  private matched = 0;
  private done = false;

  constructor(private readonly keys: readonly number[]) {}

  /** detached is true once the sequence was read; nothing is passed on after it. */
  get detached(): boolean {
    return this.done;
  }

  /** push takes a chunk of input and returns what goes on to the container. */
  push(chunk: Buffer): Buffer {
    if (this.done || this.keys.length === 0) return this.done ? Buffer.alloc(0) : chunk;
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.done = true;
          break;
        }
        continue;
      }
      // Not the sequence after all: the held keys were input. The byte may start a new match.
      out.push(...this.keys.slice(0, this.matched));
      this.matched = byte === this.keys[0] ? 1 : 0;
      if (this.matched === 0) out.push(byte);
    }
    return Buffer.from(out);
  }
}

/** detachFilter is a DetachFilter of a --detach-keys value (parseDetachKeys). */
export function detachFilter(keys: string): DetachFilter {
  return new DetachFilter(parseDetachKeys(keys));
}
