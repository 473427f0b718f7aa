const DAY_MS = 86_400_000;
const LAST_FOUR_DIGIT_YEAR = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MAX_CACHED_DAYS = 4096;
const dayPrefixes = new Map<number, string>();

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `date.toISOString()`, about five times faster. The built-in costs about 1 µs here, and a 365-day
 * trend serializes 730 instants (a findings page about 500): the calendar-day part is the expensive
 * half, and a response holds only a few distinct days, so it comes from the built-in once per day.
 * Instants before 1970 or after year 9999 go to the built-in as they are.
 */
export function isoInstant(date: Date): string {
  const t = date.getTime();
  if (!(t >= 0 && t <= LAST_FOUR_DIGIT_YEAR)) return date.toISOString(); // also throws on an invalid Date, as the built-in does
  const ms = t % DAY_MS;
  const day = t - ms;
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= MAX_CACHED_DAYS) dayPrefixes.clear();
    prefix = new Date(day).toISOString().slice(0, 11); // 'YYYY-MM-DDT'
    dayPrefixes.set(day, prefix);
  }
  return `${prefix}${pad2(Math.floor(ms / 3_600_000))}:${pad2(Math.floor(ms / 60_000) % 60)}:${pad2(Math.floor(ms / 1000) % 60)}.${pad3(ms % 1000)}Z`;
}
