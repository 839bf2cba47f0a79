// Date.prototype.toISOString, without its cost on first use: V8 looks up the
// local time zone for it (ICU reads /etc/localtime and its zone's rules, 0.3 ms
// here), though an ISO time is UTC. The UTC getters need no zone.

/** isoTime is date as toISOString gives it (`2024-05-06T07:08:09.123Z`), for the years 0 to 9999. */
export function isoTime(date: Date = new Date()): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return date.toISOString();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.${String(date.getUTCMilliseconds()).padStart(3, '0')}Z`;
}
