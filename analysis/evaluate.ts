// Pure evaluation of one metric check: a provider's MetricResult and a threshold range in, a Verdict out
// (SPEC §5.1). Also the admission check of threshold ranges. No I/O, no clock.
import type { MetricResult, OnNoData, Outcome, ThresholdRange, Verdict } from './types.js';

export interface EvaluateInput {
  /** The metric's name as the Canary gives it, e.g. `request-success-rate`. */
  metric: string;
  result: MetricResult;
  threshold: ThresholdRange;
  /** Default `fail`. Applies to no data only, never to an unreachable or failing provider. */
  onNoData?: OnNoData;
  /** Evaluate and report, never gate: the outcome is `dry-run` and the reason says what it would have been. */
  dryRun?: boolean;
}

export interface FieldError {
  path: string;
  message: string;
}

/**
 * Every problem of a thresholdRange, with field paths under `path`: bounds must be finite numbers, at least one
 * must be set (a range without bounds would pass anything), and min may not exceed max (equal is allowed).
 */
export function validateThresholdRange(
  range: ThresholdRange | undefined,
  path = 'thresholdRange',
): FieldError[] {
  if (range === undefined) return [{ path, message: 'is required: set min, max or both' }];
  const errors: FieldError[] = [];
  for (const key of ['min', 'max'] as const) {
    const v: unknown = range[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      errors.push({
        path: `${path}.${key}`,
        message: `must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`,
      });
    }
  }
  if (range.min === undefined && range.max === undefined) {
    errors.push({ path, message: 'has neither min nor max: set min, max or both' });
  }
  if (!errors.length && range.min !== undefined && range.max !== undefined && range.min > range.max) {
    errors.push({ path, message: `min ${range.min} is greater than max ${range.max}` });
  }
  return errors;
}

/**
 * Numbers as a human reads them: about four significant digits, never in exponent form. When rounding would
 * make `v` look equal to `other` (a bound it is compared with), the full value is shown instead.
 */
function formatNumber(v: number, other?: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const decimals = Math.min(10, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v)))));
  const short = String(Number(v.toFixed(decimals)));
  if (other !== undefined && v !== other && short === formatNumber(other)) return String(v);
  return short;
}

/** How a passing value relates to a valid range (one with at least one bound). */
function withinText(t: ThresholdRange): string {
  if (t.min !== undefined && t.max !== undefined)
    return `is within [${formatNumber(t.min)}, ${formatNumber(t.max)}]`;
  if (t.min !== undefined) return `is at or above the minimum ${formatNumber(t.min)}`;
  return `is at or below the maximum ${formatNumber(t.max ?? NaN)}`;
}

const NO_DATA_EFFECT: Readonly<Record<OnNoData, { outcome: Outcome; why: string }>> = {
  fail: { outcome: 'fail', why: 'onNoData is fail, so this counts as a failed check' },
  hold: { outcome: 'hold', why: 'onNoData is hold, so the analysis neither advances nor counts a failure' },
  pass: { outcome: 'pass', why: 'onNoData is pass, so the check passes without a value' },
};

const PROVIDER_FAILURE: Readonly<Record<Exclude<MetricResult['kind'], 'value' | 'no-data'>, string>> = {
  'multiple-series': 'the query returned more than one series',
  unreachable: 'the metrics provider is unreachable',
  'bad-query': 'the metrics provider rejected the query',
  unauthorized: 'the metrics provider refused the credentials',
};

function makeVerdict(input: EvaluateInput, outcome: Outcome, reason: string, value?: number): Verdict {
  return {
    metric: input.metric,
    ...(value !== undefined ? { value } : {}),
    threshold: input.threshold,
    outcome,
    reason,
  };
}

function noDataVerdict(input: EvaluateInput, why: string): Verdict {
  const effect = NO_DATA_EFFECT[input.onNoData ?? 'fail'];
  return makeVerdict(input, effect.outcome, `${input.metric} has no data (${why}); ${effect.why}`);
}

/** The verdict as if dryRun were false. */
function judge(input: EvaluateInput): Verdict {
  const { metric, result, threshold } = input;

  const rangeErrors = validateThresholdRange(threshold);
  if (rangeErrors.length) {
    const what = rangeErrors.map((e) => `${e.path} ${e.message}`).join('; ');
    return makeVerdict(input, 'fail', `${metric} cannot be judged: its ${what}`);
  }

  switch (result.kind) {
    case 'no-data':
      return noDataVerdict(input, result.message);
    case 'value':
      // NaN is how PromQL says 0/0 (no requests in the window): no data, as SPEC §5.1 has it.
      if (Number.isNaN(result.value)) return noDataVerdict(input, 'the query returned NaN');
      break;
    default:
      // A metrics outage or a broken query never promotes, whatever onNoData says.
      return makeVerdict(
        input,
        'fail',
        `${metric} could not be evaluated: ${PROVIDER_FAILURE[result.kind]}: ${result.message}`,
      );
  }

  const { value } = result;
  const { min, max } = threshold;
  if (min !== undefined && value < min) {
    return makeVerdict(
      input,
      'fail',
      `${metric} ${formatNumber(value, min)} is below the minimum ${formatNumber(min)}`,
      value,
    );
  }
  if (max !== undefined && value > max) {
    return makeVerdict(
      input,
      'fail',
      `${metric} ${formatNumber(value, max)} is above the maximum ${formatNumber(max)}`,
      value,
    );
  }
  return makeVerdict(input, 'pass', `${metric} ${formatNumber(value)} ${withinText(threshold)}`, value);
}

const WOULD_HAVE: Readonly<Record<Outcome, string>> = {
  pass: 'passed',
  fail: 'failed',
  hold: 'held',
  'dry-run': 'been a dry run',
};

/**
 * One check's verdict. Inside [min, max] (bounds inclusive) → pass; outside → fail naming value and bound; no data
 * (including NaN) → per onNoData (default fail); any provider failure → fail with its message; an invalid range →
 * fail naming it. With dryRun the outcome is `dry-run` and the reason starts with what it would have been.
 */
export function evaluate(input: EvaluateInput): Verdict {
  const verdict = judge(input);
  if (!input.dryRun) return verdict;
  return {
    ...verdict,
    outcome: 'dry-run',
    reason: `dry run, would have ${WOULD_HAVE[verdict.outcome]}: ${verdict.reason}`,
  };
}
