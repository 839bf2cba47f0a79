import test from 'ava';
import { isoTime } from '../../src/iso-time';

test('isoTime is toISOString, for now, the epoch, leap days and random times of years 0 to 9999', (t) => {
  const dates = [new Date(), new Date(0), new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)), new Date(Date.UTC(1, 0, 1)), new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999))];
  for (let i = 0; i < 1000; i++) dates.push(new Date(Math.floor(Math.random() * 253402300800000)));
  for (const date of dates) t.is(isoTime(date), date.toISOString());
  t.is(isoTime(new Date(Date.UTC(12000, 0, 1))), '+012000-01-01T00:00:00.000Z');
});
