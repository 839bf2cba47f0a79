// A pattern with a Unicode property class (\p{L}) takes a tenth of a millisecond
// to build, and a module-level literal is built as the module loads: by every
// nbox command that loads it, though most never test it.

/** lazyPattern is new RegExp(source, flags), made on its first test. */
export function lazyPattern(source: string, flags: string): { test(text: string): boolean } {
  let made: RegExp | undefined;
  return { test: (text) => (made ??= new RegExp(source, flags)).test(text) };
}
