// evaluate() as a table: every MetricResult kind against ranges, onNoData and dryRun; and threshold admission.
import { describe, expect, it } from 'vitest';
import { evaluate, validateThresholdRange } from '../../analysis/evaluate.js';
import type { EvaluateInput } from '../../analysis/evaluate.js';
import type { MetricResult, Verdict } from '../../analysis/types.js';

const SR = 'request-success-rate';
const value = (v: number): MetricResult => ({ kind: 'value', value: v });
const noData: MetricResult = { kind: 'no-data', message: 'the query returned no series' };

describe('evaluate', () => {
  const cases: { name: string; input: EvaluateInput; want: Omit<Verdict, 'metric' | 'threshold'> }[] = [
    {
      name: 'above the minimum passes',
      input: { metric: SR, result: value(99.5), threshold: { min: 99 } },
      want: {
        value: 99.5,
        outcome: 'pass',
        reason: 'request-success-rate 99.5 is at or above the minimum 99',
      },
    },
    {
      name: 'exactly the minimum passes (bounds are inclusive)',
      input: { metric: SR, result: value(99), threshold: { min: 99 } },
      want: { value: 99, outcome: 'pass', reason: 'request-success-rate 99 is at or above the minimum 99' },
    },
    {
      name: 'below the minimum fails, naming value and bound',
      input: { metric: SR, result: value(79.8), threshold: { min: 99 } },
      want: { value: 79.8, outcome: 'fail', reason: 'request-success-rate 79.8 is below the minimum 99' },
    },
    {
      name: 'long fractions are shortened in the reason, not in the value',
      input: { metric: SR, result: value(79.83333333), threshold: { min: 99 } },
      want: {
        value: 79.83333333,
        outcome: 'fail',
        reason: 'request-success-rate 79.83 is below the minimum 99',
      },
    },
    {
      name: 'a value that would round to the bound is shown in full',
      input: { metric: SR, result: value(98.99999), threshold: { min: 99 } },
      want: {
        value: 98.99999,
        outcome: 'fail',
        reason: 'request-success-rate 98.99999 is below the minimum 99',
      },
    },
    {
      name: 'below the maximum passes',
      input: { metric: 'request-duration', result: value(120), threshold: { max: 500 } },
      want: { value: 120, outcome: 'pass', reason: 'request-duration 120 is at or below the maximum 500' },
    },
    {
      name: 'above the maximum fails',
      input: { metric: 'request-duration', result: value(812.345), threshold: { max: 500 } },
      want: { value: 812.345, outcome: 'fail', reason: 'request-duration 812.3 is above the maximum 500' },
    },
    {
      name: '+Inf (a P99 in the last bucket) is above any maximum',
      input: { metric: 'request-duration', result: value(Infinity), threshold: { max: 500 } },
      want: {
        value: Infinity,
        outcome: 'fail',
        reason: 'request-duration Infinity is above the maximum 500',
      },
    },
    {
      name: 'inside a two-sided range passes',
      input: { metric: 'm', result: value(5), threshold: { min: 1, max: 10 } },
      want: { value: 5, outcome: 'pass', reason: 'm 5 is within [1, 10]' },
    },
    {
      name: 'a point range passes its one value',
      input: { metric: 'm', result: value(0), threshold: { min: 0, max: 0 } },
      want: { value: 0, outcome: 'pass', reason: 'm 0 is within [0, 0]' },
    },
    {
      name: 'small values keep their significant digits',
      input: { metric: 'm', result: value(0.001234), threshold: { max: 0.001 } },
      want: { value: 0.001234, outcome: 'fail', reason: 'm 0.001234 is above the maximum 0.001' },
    },
    {
      name: 'no data fails by default',
      input: { metric: SR, result: noData, threshold: { min: 99 } },
      want: {
        outcome: 'fail',
        reason:
          'request-success-rate has no data (the query returned no series); onNoData is fail, so this counts as a failed check',
      },
    },
    {
      name: 'no data with onNoData fail',
      input: { metric: SR, result: noData, threshold: { min: 99 }, onNoData: 'fail' },
      want: {
        outcome: 'fail',
        reason:
          'request-success-rate has no data (the query returned no series); onNoData is fail, so this counts as a failed check',
      },
    },
    {
      name: 'no data with onNoData hold',
      input: { metric: SR, result: noData, threshold: { min: 99 }, onNoData: 'hold' },
      want: {
        outcome: 'hold',
        reason:
          'request-success-rate has no data (the query returned no series); onNoData is hold, so the analysis neither advances nor counts a failure',
      },
    },
    {
      name: 'no data with onNoData pass',
      input: { metric: SR, result: noData, threshold: { min: 99 }, onNoData: 'pass' },
      want: {
        outcome: 'pass',
        reason:
          'request-success-rate has no data (the query returned no series); onNoData is pass, so the check passes without a value',
      },
    },
    {
      name: 'NaN (0/0: no requests) is no data, per onNoData',
      input: { metric: SR, result: value(NaN), threshold: { min: 99 }, onNoData: 'hold' },
      want: {
        outcome: 'hold',
        reason:
          'request-success-rate has no data (the query returned NaN); onNoData is hold, so the analysis neither advances nor counts a failure',
      },
    },
    {
      name: 'multiple series fail, even with onNoData pass',
      input: {
        metric: SR,
        result: { kind: 'multiple-series', count: 3, message: 'the query returned 3 series, expected 1' },
        threshold: { min: 99 },
        onNoData: 'pass',
      },
      want: {
        outcome: 'fail',
        reason:
          'request-success-rate could not be evaluated: the query returned more than one series: the query returned 3 series, expected 1',
      },
    },
    {
      name: 'an unreachable provider fails, even with onNoData pass',
      input: {
        metric: SR,
        result: { kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9090' },
        threshold: { min: 99 },
        onNoData: 'pass',
      },
      want: {
        outcome: 'fail',
        reason:
          'request-success-rate could not be evaluated: the metrics provider is unreachable: connect ECONNREFUSED 127.0.0.1:9090',
      },
    },
    {
      name: 'a bad query fails with the provider message',
      input: {
        metric: 'm',
        result: { kind: 'bad-query', message: 'bad_data: parse error at char 5' },
        threshold: { max: 1 },
        onNoData: 'hold',
      },
      want: {
        outcome: 'fail',
        reason:
          'm could not be evaluated: the metrics provider rejected the query: bad_data: parse error at char 5',
      },
    },
    {
      name: 'unauthorized fails with the provider message',
      input: {
        metric: 'm',
        result: { kind: 'unauthorized', message: 'HTTP 401 from http://prometheus:9090' },
        threshold: { max: 1 },
      },
      want: {
        outcome: 'fail',
        reason:
          'm could not be evaluated: the metrics provider refused the credentials: HTTP 401 from http://prometheus:9090',
      },
    },
    {
      name: 'an invalid range (min > max) fails naming it, even for a value inside neither',
      input: { metric: 'm', result: value(5), threshold: { min: 10, max: 1 } },
      want: {
        outcome: 'fail',
        reason: 'm cannot be judged: its thresholdRange min 10 is greater than max 1',
      },
    },
    {
      name: 'an invalid range wins over onNoData pass',
      input: { metric: 'm', result: noData, threshold: { min: 10, max: 1 }, onNoData: 'pass' },
      want: {
        outcome: 'fail',
        reason: 'm cannot be judged: its thresholdRange min 10 is greater than max 1',
      },
    },
    {
      name: 'a range without bounds fails rather than passing anything',
      input: { metric: 'm', result: value(5), threshold: {} },
      want: {
        outcome: 'fail',
        reason: 'm cannot be judged: its thresholdRange has neither min nor max: set min, max or both',
      },
    },
    {
      name: 'dry run of a failure',
      input: { metric: SR, result: value(79.8), threshold: { min: 99 }, dryRun: true },
      want: {
        value: 79.8,
        outcome: 'dry-run',
        reason: 'dry run, would have failed: request-success-rate 79.8 is below the minimum 99',
      },
    },
    {
      name: 'dry run of a pass',
      input: { metric: SR, result: value(100), threshold: { min: 99 }, dryRun: true },
      want: {
        value: 100,
        outcome: 'dry-run',
        reason: 'dry run, would have passed: request-success-rate 100 is at or above the minimum 99',
      },
    },
    {
      name: 'dry run of a hold',
      input: { metric: SR, result: noData, threshold: { min: 99 }, onNoData: 'hold', dryRun: true },
      want: {
        outcome: 'dry-run',
        reason:
          'dry run, would have held: request-success-rate has no data (the query returned no series); onNoData is hold, so the analysis neither advances nor counts a failure',
      },
    },
    {
      name: 'dry run of an outage',
      input: {
        metric: SR,
        result: { kind: 'unreachable', message: 'timeout after 5000 ms' },
        threshold: { min: 99 },
        dryRun: true,
      },
      want: {
        outcome: 'dry-run',
        reason:
          'dry run, would have failed: request-success-rate could not be evaluated: the metrics provider is unreachable: timeout after 5000 ms',
      },
    },
    {
      name: 'dryRun false is an ordinary verdict',
      input: { metric: SR, result: value(79.8), threshold: { min: 99 }, dryRun: false },
      want: { value: 79.8, outcome: 'fail', reason: 'request-success-rate 79.8 is below the minimum 99' },
    },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(evaluate(input)).toStrictEqual({ metric: input.metric, threshold: input.threshold, ...want });
  });

  it('never passes a provider failure, whatever onNoData and the range say', () => {
    const failures: Exclude<MetricResult, { kind: 'value' }>[] = [
      { kind: 'multiple-series', count: 2, message: 'two' },
      { kind: 'unreachable', message: 'down' },
      { kind: 'bad-query', message: 'bad' },
      { kind: 'unauthorized', message: 'no' },
    ];
    for (const result of failures) {
      for (const onNoData of ['fail', 'hold', 'pass'] as const) {
        for (const threshold of [{ min: 0 }, { max: 1e9 }, { min: -1e9, max: 1e9 }]) {
          const v = evaluate({ metric: 'm', result, threshold, onNoData });
          expect([result.kind, onNoData, v.outcome, v.value]).toEqual([
            result.kind,
            onNoData,
            'fail',
            undefined,
          ]);
          expect(v.reason).toContain(result.message);
        }
      }
    }
  });
});

describe('validateThresholdRange', () => {
  const cases: { name: string; range: Parameters<typeof validateThresholdRange>[0]; want: string[] }[] = [
    { name: 'min only', range: { min: 99 }, want: [] },
    { name: 'max only', range: { max: 500 }, want: [] },
    { name: 'both, equal', range: { min: 1, max: 1 }, want: [] },
    { name: 'negative bounds', range: { min: -5, max: -1 }, want: [] },
    {
      name: 'min > max',
      range: { min: 10, max: 1 },
      want: ['spec.thresholdRange: min 10 is greater than max 1'],
    },
    {
      name: 'empty',
      range: {},
      want: ['spec.thresholdRange: has neither min nor max: set min, max or both'],
    },
    { name: 'missing', range: undefined, want: ['spec.thresholdRange: is required: set min, max or both'] },
    {
      name: 'non-finite bounds, each with its path',
      range: { min: NaN, max: Infinity },
      want: [
        'spec.thresholdRange.min: must be a finite number, got NaN',
        'spec.thresholdRange.max: must be a finite number, got Infinity',
      ],
    },
    {
      name: 'a string bound from untyped input',
      range: { min: '99' as unknown as number },
      want: ['spec.thresholdRange.min: must be a finite number, got "99"'],
    },
  ];
  it.each(cases)('$name', ({ range, want }) => {
    expect(
      validateThresholdRange(range, 'spec.thresholdRange').map((e) => `${e.path}: ${e.message}`),
    ).toEqual(want);
  });

  it('uses thresholdRange as the default path', () => {
    expect(validateThresholdRange({ min: 2, max: 1 })).toEqual([
      { path: 'thresholdRange', message: 'min 2 is greater than max 1' },
    ]);
  });
});
