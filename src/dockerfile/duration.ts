// Go's time.ParseDuration, for HEALTHCHECK options (`--interval=1m30s`), in nanoseconds.

const UNIT_NANOSECONDS: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['\u00b5s', 1e3],
  ['\u03bcs', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);
const MAX_NANOSECONDS = 2 ** 63 - 1;
const TERM = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/** parseDuration reads a Go duration (`300ms`, `-1.5h`, `2h45m`) as nanoseconds, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const negative = text.startsWith('-');
  let rest = negative || text.startsWith('+') ? text.slice(1) : text;
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const match = TERM.exec(rest);
    const [term, whole, fraction, unit] = match ?? ['', '', undefined, ''];
    if (whole === '' && (fraction ?? '') === '') return undefined;
    const scale = UNIT_NANOSECONDS.get(unit);
    if (scale === undefined) return undefined;
    total += Number(whole || '0') * scale + (fraction ? Math.round(Number(`0.${fraction}`) * scale) : 0);
    rest = rest.slice(term.length);
  }
  if (total > MAX_NANOSECONDS) return undefined;
  return negative ? -total : total;
}
