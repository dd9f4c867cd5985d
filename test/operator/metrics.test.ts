// Tests of the operator's Prometheus metrics, read back from the registry's exposition text.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { OperatorMetrics } from '../../operator/metrics.js';
import { canaryStatusValue, createOperatorMetrics } from '../../operator/metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of the exposition text (comments skipped). */
async function samples(registry: Registry): Promise<Sample[]> {
  const text = await registry.metrics();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample with this name and exactly these labels; undefined if there is none. */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = (await samples(registry)).filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  if (found.length > 1) throw new Error(`${name}: ${found.length} samples with ${want}`);
  return found[0]?.value;
}

function setup(): { registry: Registry; m: OperatorMetrics } {
  const registry = new Registry();
  return { registry, m: createOperatorMetrics(registry) };
}

const podinfo = { name: 'podinfo', namespace: 'test' };

describe('operator metrics', () => {
  it("maps phases to fledge_canary_status as Flagger's does", async () => {
    expect(canaryStatusValue('Progressing')).toBe(0);
    expect(canaryStatusValue('Failed')).toBe(2);
    for (const phase of ['Initialized', 'Succeeded', 'Promoting', 'WaitingPromotion'] as const)
      expect(canaryStatusValue(phase)).toBe(1);
    const { registry, m } = setup();
    m.setStatus('test', 'podinfo', 'Progressing');
    expect(await value(registry, 'fledge_canary_status', podinfo)).toBe(0);
    m.setStatus('test', 'podinfo', 'Failed');
    expect(await value(registry, 'fledge_canary_status', podinfo)).toBe(2);
    m.setStatus('test', 'podinfo', 'Succeeded');
    expect(await value(registry, 'fledge_canary_status', podinfo)).toBe(1);
  });

  it('writes the weight of the canary and primary workloads, and totals per namespace', async () => {
    const { registry, m } = setup();
    m.setWeight('test', 'podinfo', 'podinfo', 30, 70);
    m.setTotal('test', 3);
    m.setTotal('prod', 0);
    expect(await value(registry, 'fledge_canary_weight', { workload: 'podinfo', namespace: 'test' })).toBe(
      30,
    );
    expect(
      await value(registry, 'fledge_canary_weight', { workload: 'podinfo-primary', namespace: 'test' }),
    ).toBe(70);
    expect(await value(registry, 'fledge_canary_total', { namespace: 'test' })).toBe(3);
    expect(await value(registry, 'fledge_canary_total', { namespace: 'prod' })).toBe(0);
  });

  it('observes tick durations and drift in seconds and counts ticks', async () => {
    const { registry, m } = setup();
    m.observeTick('test', 'podinfo', 40);
    m.observeTick('test', 'podinfo', 2000);
    m.observeTickDrift(3);
    m.observeTickDrift(700);
    const dur = (le: string): Promise<number | undefined> =>
      value(registry, 'fledge_canary_duration_seconds_bucket', { ...podinfo, le });
    expect(await dur('0.05')).toBe(1);
    expect(await dur('2.5')).toBe(2);
    expect(await value(registry, 'fledge_canary_duration_seconds_sum', podinfo)).toBeCloseTo(2.04);
    expect(await value(registry, 'fledge_canary_ticks_total', podinfo)).toBe(2);
    expect(await value(registry, 'fledge_canary_tick_drift_seconds_bucket', { le: '0.005' })).toBe(1);
    expect(await value(registry, 'fledge_canary_tick_drift_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(await value(registry, 'fledge_canary_tick_drift_seconds_bucket', { le: '1' })).toBe(2);
  });

  it('keeps the last value of each analysis metric', async () => {
    const { registry, m } = setup();
    m.recordMetric('test', 'podinfo', 'request-success-rate', 99.5);
    m.recordMetric('test', 'podinfo', 'request-duration', 0.25);
    m.recordMetric('test', 'podinfo', 'request-success-rate', 97);
    expect(
      await value(registry, 'fledge_canary_metric_analysis', { ...podinfo, metric: 'request-success-rate' }),
    ).toBe(97);
    expect(
      await value(registry, 'fledge_canary_metric_analysis', { ...podinfo, metric: 'request-duration' }),
    ).toBe(0.25);
  });

  it("forget removes every series of one canary and leaves the others'", async () => {
    const { registry, m } = setup();
    for (const name of ['podinfo', 'other']) {
      m.setStatus('test', name, 'Progressing');
      m.setWeight('test', name, name, 10, 90);
      m.observeTick('test', name, 5);
      m.recordMetric('test', name, 'request-success-rate', 100);
    }
    m.setTotal('test', 2);
    m.forget('test', 'podinfo');
    const left = (await samples(registry)).filter((s) => s.name.startsWith('fledge_canary_'));
    const mentionsPodinfo = left.filter(
      (s) => s.labels.name === 'podinfo' || s.labels.workload?.startsWith('podinfo'),
    );
    expect(mentionsPodinfo).toEqual([]);
    expect(await value(registry, 'fledge_canary_status', { name: 'other', namespace: 'test' })).toBe(0);
    expect(
      await value(registry, 'fledge_canary_weight', { workload: 'other-primary', namespace: 'test' }),
    ).toBe(90);
    expect(await value(registry, 'fledge_canary_ticks_total', { name: 'other', namespace: 'test' })).toBe(1);
    expect(await value(registry, 'fledge_canary_total', { namespace: 'test' })).toBe(2);
  });

  it('registers on the given registry only, so two operators in one process do not collide', async () => {
    const a = setup();
    const b = setup();
    a.m.setTotal('test', 1);
    expect(await value(a.registry, 'fledge_canary_total', { namespace: 'test' })).toBe(1);
    expect(await value(b.registry, 'fledge_canary_total', { namespace: 'test' })).toBeUndefined();
  });
});
