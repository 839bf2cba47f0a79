// Times as the docker CLI prints them: Go's formats in the local time zone
// (TZ, else /etc/localtime), with the zone's abbreviation from its tzdata file,
// as Go's time package reads it ("CET", "EST", "UTC").
import { readFileSync } from 'node:fs';

const ZONEINFO = '/usr/share/zoneinfo';

/** goTimeString is Go's time.Time String() in the local zone, as `ps`/`images --format {{.CreatedAt}}` print it:
 * `2006-01-02 15:04:05 -0700 MST`. */
export function goTimeString(date: Date): string {
  const offset = offsetSeconds(date);
  return `${localFields(date, offset).replace('T', ' ')} ${numericOffset(offset, '')} ${abbreviation(offset)}`;
}

/** rfc3339Local is Go's time.RFC3339 in the local zone, as `history --format {{.CreatedAt}}` prints it:
 * `2006-01-02T15:04:05+01:00`, or `…Z` where the zone is UTC's offset. */
export function rfc3339Local(date: Date): string {
  const offset = offsetSeconds(date);
  return `${localFields(date, offset)}${offset === 0 ? 'Z' : numericOffset(offset, ':')}`;
}

function offsetSeconds(date: Date): number {
  return -date.getTimezoneOffset() * 60;
}

// The wall clock at offset: `2006-01-02T15:04:05`.
function localFields(date: Date, offset: number): string {
  return new Date(Math.trunc(date.getTime() / 1000) * 1000 + offset * 1000).toISOString().slice(0, 19);
}

function numericOffset(offset: number, separator: string): string {
  const minutes = Math.abs(offset) / 60;
  const pad = (n: number) => String(Math.trunc(n)).padStart(2, '0');
  return `${offset < 0 ? '-' : '+'}${pad(minutes / 60)}${separator}${pad(minutes % 60)}`;
}

let zone: { offsets: Map<number, string> } | null | undefined;

// The abbreviation of the local zone's type with this offset (the last such in its file), else Go's numeric name.
function abbreviation(offset: number): string {
  zone ??= readZone();
  const named = zone?.offsets.get(offset);
  if (named) return named;
  return offset === 0 ? 'UTC' : numericOffset(offset, '');
}

// readZone reads the abbreviations of the local zone's tzdata file (TZif): its local time types by offset.
function readZone(): { offsets: Map<number, string> } | null {
  const tz = process.env.TZ;
  if (tz === '' || tz === 'UTC' || tz === ':UTC') return { offsets: new Map([[0, 'UTC']]) };
  const name = tz?.replace(/^:/, '');
  const file = name === undefined ? '/etc/localtime' : name.startsWith('/') ? name : `${ZONEINFO}/${name}`;
  try {
    return { offsets: tzifOffsets(readFileSync(file)) };
  } catch {
    return null;
  }
}

/** tzifOffsets reads a TZif file's local time types (RFC 8536) as offset in seconds to abbreviation, from the
 * version 2+ block where there is one. Of several types with one offset (EDT and war time's EWT, both -4 h),
 * the one its transitions used last wins: the name in use now. */
export function tzifOffsets(data: Buffer): Map<number, string> {
  if (data.toString('latin1', 0, 4) !== 'TZif') throw new Error('not a TZif file');
  const counts = (at: number) => ({
    isut: data.readUInt32BE(at + 20), isstd: data.readUInt32BE(at + 24), leap: data.readUInt32BE(at + 28),
    time: data.readUInt32BE(at + 32), type: data.readUInt32BE(at + 36), char: data.readUInt32BE(at + 40),
  });
  const v1 = counts(0);
  const v1Size = v1.time * 5 + v1.type * 6 + v1.char + v1.leap * 8 + v1.isstd + v1.isut;
  // Version 2 and later repeat the data with 64-bit times after the version 1 block.
  const version2 = data[4] !== 0 && data.length >= 44 + v1Size + 44;
  const header = version2 ? 44 + v1Size : 0;
  const c = counts(header);
  const indices = header + 44 + c.time * (version2 ? 8 : 4);
  const types = indices + c.time;
  const chars = types + c.type * 6;
  const typeAt = (i: number): [number, string] => {
    const index = data[types + i * 6 + 5];
    const end = data.indexOf(0, chars + index);
    return [data.readInt32BE(types + i * 6), data.toString('latin1', chars + index, end < 0 || end > chars + c.char ? chars + c.char : end)];
  };
  const used = c.time > 0 ? Array.from({ length: c.time }, (_, i) => data[indices + i]) : Array.from({ length: c.type }, (_, i) => i);
  return new Map(used.filter((i) => i < c.type).map(typeAt));
}
