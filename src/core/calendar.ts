/**
 * Wall-clock time in a time zone (the jurisdiction's): collection periods are counted in its
 * calendar days, and a clerk's local date-time is read in its zone, whatever the daylight-saving
 * changes in between.
 */

const DAY_MS = 86_400_000;

const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of an instant in a zone, as the UTC instant with the same reading (milliseconds). */
function wallClock(at: number, timeZone: string): number {
  let format = wallFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, Number(p.value)]));
  const seconds = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return seconds + (((at % 1000) + 1000) % 1000);
}

/**
 * The instant a wall-clock reading (given as the UTC instant with that reading) names in a zone: the
 * zone's offsets a day before and a day after are tried, so that a reading hours from a
 * daylight-saving change takes that day's offset. A reading the change skips (02:30 on the last
 * Sunday of March in Paris) lands an hour later; one it repeats (02:30 on the last Sunday of
 * October), on its later occurrence.
 */
export function instantOfWallClock(wall: number, timeZone: string): Date {
  const offset = (at: number) => wallClock(at, timeZone) - at;
  const before = wall - offset(wall - DAY_MS);
  const after = wall - offset(wall + DAY_MS);
  const matching = [before, after].filter((at) => wallClock(at, timeZone) === wall);
  return new Date(matching.length ? Math.max(...matching) : before);
}

/**
 * Days left before `closesAt`, any part of a day counting as a day (the last one is 1), measured on
 * the zone's clocks: the night summer time ends is not a 25th hour that makes one more day.
 */
export function daysLeftUntil(closesAt: Date, now: Date, timeZone: string): number {
  if (closesAt.getTime() <= now.getTime()) return 0;
  return Math.max(1, Math.ceil((wallClock(closesAt.getTime(), timeZone) - wallClock(now.getTime(), timeZone)) / DAY_MS));
}

/**
 * Whether `now` is on the collection's last calendar day in the zone: the day of its last instant,
 * so a collection ending at midnight has the day before as its last, and one ending tomorrow at
 * 10:00 does not have today, however few hours are left.
 */
export function isLastLocalDay(closesAt: Date, now: Date, timeZone: string): boolean {
  if (closesAt.getTime() <= now.getTime()) return false;
  const localDay = (at: number) => Math.floor(wallClock(at, timeZone) / DAY_MS);
  return localDay(closesAt.getTime() - 1) === localDay(now.getTime());
}

/** Whether an instant is midnight, 00:00:00.000, in the zone: the start of a local day. */
export function isLocalMidnight(at: Date, timeZone: string): boolean {
  return wallClock(at.getTime(), timeZone) % DAY_MS === 0;
}

/** The same wall-clock time `days` calendar days later in the zone (not `days` × 24 hours). */
export function addCalendarDays(at: Date, days: number, timeZone: string): Date {
  const wall = new Date(wallClock(at.getTime(), timeZone));
  wall.setUTCDate(wall.getUTCDate() + days);
  return instantOfWallClock(wall.getTime(), timeZone);
}

/** The minute of an instant on the zone's clocks, as a date-time field holds it (YYYY-MM-DDTHH:mm), seconds dropped. */
export function localDateTimeField(at: Date, timeZone: string): string {
  return new Date(wallClock(at.getTime(), timeZone)).toISOString().slice(0, 16);
}
