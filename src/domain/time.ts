// Times as SMSC writes them: unix seconds (`ts`), `DD.MM.YYYY hh:mm:ss` in the account's time zone (`time`),
// and the parser's local ISO form `YYYY-MM-DDTHH:MM:SS` (receipt dates). Pure: no clock is read here.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC, in milliseconds, at the instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

export type LocalDateTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

function isValidLocal(t: LocalDateTime): boolean {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.hour > 23 || t.minute > 59 || t.second > 59) return false;
  const daysInMonth = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
  return t.day <= daysInMonth;
}

/** The instant at which the wall clock in `timeZone` shows `t`. */
export function zonedToInstant(t: LocalDateTime, timeZone: string): Date | null {
  if (!isValidLocal(t)) return null;
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  // Two passes settle the offset across DST changes.
  let guess = wall - zoneOffsetMs(wall, timeZone);
  guess = wall - zoneOffsetMs(guess, timeZone);
  return new Date(guess);
}

/** `DD.MM.YYYY hh:mm:ss` (seconds optional) read in `timeZone`. */
export function parseSmscTime(value: string, timeZone: string): Date | null {
  const m = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(value);
  if (!m) return null;
  return zonedToInstant(
    { day: +m[1]!, month: +m[2]!, year: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: m[6] ? +m[6] : 0 },
    timeZone,
  );
}

/** `YYYY-MM-DDTHH:MM:SS` (the status-string parser's local form) read in `timeZone`. */
export function parseLocalIso(value: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  return zonedToInstant({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]! }, timeZone);
}

/** Unix seconds (`ts`); milliseconds are accepted too when the value is obviously in them. */
export function parseUnixTime(value: string): Date | null {
  if (!/^\s*\d{1,13}(\.\d+)?\s*$/.test(value)) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return null;
  return new Date(n >= 1e12 ? n : n * 1000);
}
