// Ages as kube's printers show them: HumanDuration of (now - timestamp), and the RFC 3339 parsing
// that metav1.Time accepts. Pure: the clock is an argument.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * kube's duration.HumanDuration: `12s` under 2 minutes, `5m3s` under 10 minutes, `42m` under 3 hours,
 * `3h5m` under 8 hours, `30h` under 2 days, `3d4h` under 8 days, `40d` under 2 years, `3y20d` under
 * 8 years, then `9y`. Less than 2 s in the future prints `0s`, further `<invalid>`.
 */
export function humanDuration(durationMs: number): string {
  const seconds = Math.trunc(durationMs / SECOND_MS);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(durationMs / MINUTE_MS);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.trunc(durationMs / HOUR_MS);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const days = Math.trunc(hours / 24);
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.trunc(hours / 24 / 365);
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 time as Go's time.Parse(time.RFC3339) reads it, or
 * undefined when it does not parse. Go's zero time (year 1) comes back as a very negative number.
 */
export function parseRfc3339Ms(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  const date = new Date(Date.UTC(2000, 0, 1, Number(h), Number(mi), Number(s)));
  date.setUTCFullYear(Number(y), month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  let ms = date.getTime() + (frac ? Math.trunc(Number(`0${frac}`) * 1000) : 0);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * HOUR_MS + Number(zone.slice(4, 6)) * MINUTE_MS);
  }
  return ms;
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z, which printers show as `<unknown>`. */
const GO_ZERO_TIME_MS = parseRfc3339Ms('0001-01-01T00:00:00Z') ?? Number.NEGATIVE_INFINITY;

/**
 * The printers' translateTimestampSince for a metav1.Time / MicroTime field as found in an object:
 * absent, null, '' or the zero time print `<unknown>`; an unparsable one (which kube could not have
 * stored) also prints `<unknown>`.
 */
export function ageSince(timestamp: unknown, nowMs: number): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = parseRfc3339Ms(timestamp);
  if (t === undefined || t === GO_ZERO_TIME_MS) return '<unknown>';
  return humanDuration(nowMs - t);
}
