// Go duration strings ("10s", "1m30s", "500ms"), as Canary and webhook specs write them.
import type { Result } from './types.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration string ("10s", "1m30s", "500ms", "1.5h", "0") into milliseconds. Signs are not accepted:
 * every duration fledge reads (timeouts, intervals) is a length of time.
 */
export function parseGoDuration(text: string): Result<number> {
  const bad: Result<number> = {
    ok: false,
    message: `"${text}" is not a duration (use Go syntax such as 10s, 1m30s or 500ms)`,
  };
  if (text === '0') return { ok: true, value: 0 };
  if (text === '') return bad;
  const segment = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    segment.lastIndex = pos;
    const m = segment.exec(text);
    if (m === null) return bad;
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) return bad;
    total += Number(m[1]) * unit;
    pos = segment.lastIndex;
  }
  return Number.isFinite(total) ? { ok: true, value: total } : bad;
}
