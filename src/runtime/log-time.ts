// `docker logs --since/--until` values, read as Docker's client reads them
// (api/types/time GetTimestamp): a Go duration before now, an RFC 3339 time
// (parts of it allowed; no zone means local time), or unix seconds.
import { NboxError } from '../errors';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
// µ and μ as escapes: the CLI bundle then stays ASCII, which Node reads and V8 holds faster.
const DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

/** parseLogTime reads a --since or --until value; a bad one is the Docker client's message. */
export function parseLogTime(value: string, flag: 'since' | 'until', now: Date = new Date()): Date {
  const fail = (reason: string): never => {
    throw new NboxError('ERR_NBOX_USAGE', `invalid value for "${flag}": ${reason}`);
  };
  if (value !== '0' && DURATION.test(value)) {
    const sign = value.startsWith('-') ? -1 : 1;
    let ms = 0;
    for (const [, number, unit] of value.matchAll(DURATION_PART)) ms += Number(number) * UNIT_MS[unit];
    // Docker sends whole seconds for a duration.
    return new Date(Math.floor((now.getTime() - sign * ms) / 1000) * 1000);
  }
  const parsed = parseRfc3339(value);
  if (parsed instanceof Date) return parsed;
  // A value with a dash was an RFC 3339 time that did not parse: Go's parse error.
  if (value.includes('-')) return fail(parsed);
  const unix = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!unix) return fail(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return new Date(Number(unix[1]) * 1000 + Math.floor(Number(`0.${unix[2] ?? '0'}`) * 1000));
}

// parseRfc3339 picks the layout GetTimestamp picks and parses with it; the
// result is the time, or the reason it failed in Go's words.
function parseRfc3339(value: string): Date | string {
  const local = !/[zZ+]/.test(value) && value.split('-').length - 1 !== 3;
  const zone = local ? '' : '(Z|[+-]\\d\\d:\\d\\d)';
  let layout: string;
  let pattern: string;
  if (value.includes('.') || value.includes('T')) {
    let colons = value.split(':').length - 1;
    if (!local && !/[zZ]/.test(value) && colons > 0) colons--;
    const parts = value.includes('.') ? 3 : colons === 0 ? 1 : colons === 1 ? 2 : 3;
    const clock = ['15', '15:04', '15:04:05'][parts - 1] + (value.includes('.') ? '.999999999' : '');
    layout = `2006-01-02T${clock}${local ? '' : 'Z07:00'}`;
    pattern = `^(\\d{4})-(\\d\\d)-(\\d\\d)T(\\d\\d)${parts > 1 ? ':(\\d\\d)' : '()'}${parts > 2 ? ':(\\d\\d)(?:\\.(\\d+))?' : '()()'}${zone}$`;
  } else {
    layout = local ? '2006-01-02' : '2006-01-02Z07:00';
    pattern = `^(\\d{4})-(\\d\\d)-(\\d\\d)()()()()${zone}$`;
  }
  const match = new RegExp(pattern).exec(value);
  if (!match) return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout)}`;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part || 0));
  const fraction = Math.floor(Number(`0.${match[7] || '0'}`) * 1000);
  const ranges: Array<[number, number, number, string]> = [
    [month, 1, 12, 'month'], [day, 1, daysIn(year, month), 'day'], [hour, 0, 23, 'hour'], [minute, 0, 59, 'minute'], [second, 0, 59, 'second'],
  ];
  const bad = ranges.find(([n, min, max]) => n < min || n > max);
  if (bad) return `parsing time ${JSON.stringify(value)}: ${bad[3]} out of range`;
  if (local) return new Date(year, month - 1, day, hour, minute, second, fraction);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  const offset = match[8] === 'Z' ? 0 : (match[8].startsWith('-') ? -1 : 1) * (Number(match[8].slice(1, 3)) * 60 + Number(match[8].slice(4))) * 60_000;
  return new Date(utc - offset);
}

function daysIn(year: number, month: number): number {
  return month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 31;
}
