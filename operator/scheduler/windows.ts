// Rollout windows (SPEC §2.1 `analysis.windows[]`): whether one is open at a given instant. Pure given nowMs;
// the shell calls it with its injected clock and hands the result to step() in Observations.window.
import { CronTime } from 'cron';
import { parseGoDuration } from '../../analysis/duration.js';
import type { AnalysisWindow } from '../../crds/schema/flagger.js';

/** Open now, or closed with the start of the next window (Unix ms; undefined if no window ever opens). */
export type WindowState = { open: true } | { open: false; nextStartMs: number | undefined };

/**
 * A window opens at every time its cron expression matches (in `timezone`, UTC when unset) and stays open for
 * `duration`, so it may span midnight. `nowMs` is inside a window when some start s satisfies
 * s ≤ now < s + duration. No windows means always open. The windows are expected to be validated
 * (operator/validate.ts); one whose cron or duration does not parse never opens.
 */
export function windowState(windows: readonly AnalysisWindow[], nowMs: number): WindowState {
  if (windows.length === 0) return { open: true };
  let nextStartMs: number | undefined;
  for (const w of windows) {
    const durationMs = parseGoDuration(w.duration);
    if (!durationMs.ok || durationMs.value <= 0) continue;
    // The first start strictly after now − duration: the window is open iff that start is not in the future.
    const start = nextStart(w, nowMs - durationMs.value);
    if (start === undefined) continue;
    if (start <= nowMs) return { open: true };
    nextStartMs = nextStartMs === undefined ? start : Math.min(nextStartMs, start);
  }
  return { open: false, nextStartMs };
}

/** The first start of the window strictly after `afterMs` (whole seconds, as cron matches), if any. */
function nextStart(w: AnalysisWindow, afterMs: number): number | undefined {
  const zone = w.timezone ?? 'UTC';
  try {
    return new CronTime(w.cron, zone).getNextDateFrom(new Date(afterMs), zone).toMillis();
  } catch {
    // An invalid expression, or one that matches no date (e.g. 30 February).
    return undefined;
  }
}
