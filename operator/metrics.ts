// The operator's Prometheus metrics (SPEC §6), named and labelled as Flagger's (`flagger_` → `fledge_`) so
// its dashboards and alerts carry over; registered on the Registry the caller passes.
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CanaryPhase } from '../crds/schema/flagger.js';

/**
 * `fledge_canary_status`, Flagger's convention: 0 while Progressing ("running"), 2 when Failed, 1 for every
 * other phase ("successful": Initialized, Succeeded, and also Waiting, Promoting, Finalising…).
 */
export function canaryStatusValue(phase: CanaryPhase): 0 | 1 | 2 {
  if (phase === 'Progressing') return 0;
  if (phase === 'Failed') return 2;
  return 1;
}

export interface OperatorMetrics {
  /** `fledge_canary_status{name,namespace}`: see canaryStatusValue. */
  setStatus(namespace: string, name: string, phase: CanaryPhase): void;
  /**
   * `fledge_canary_weight{workload,namespace}`, two series as Flagger: workload `<target>` carries the
   * canary's weight, `<target>-primary` the primary's.
   */
  setWeight(
    namespace: string,
    name: string,
    targetName: string,
    canaryWeightPercent: number,
    primaryWeightPercent: number,
  ): void;
  /** `fledge_canary_total{namespace}`: canaries in the namespace. */
  setTotal(namespace: string, count: number): void;
  /** One analysis tick ran: `fledge_canary_duration_seconds` and `fledge_canary_ticks_total`. */
  observeTick(namespace: string, name: string, durationMs: number): void;
  /** `fledge_canary_tick_drift_seconds` (no labels): tick fire time − due time. */
  observeTickDrift(driftMs: number): void;
  /** `fledge_canary_metric_analysis{name,namespace,metric}`: the last value of one analysis metric. */
  recordMetric(namespace: string, name: string, metric: string, value: number): void;
  /** Removes every series of a deleted canary (not the namespace's total: set it with setTotal). */
  forget(namespace: string, name: string): void;
}

/** What was written per canary, so that `forget` can remove exactly its series. */
interface Written {
  targets: Set<string>;
  metrics: Set<string>;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const status = new Gauge({
    name: 'fledge_canary_status',
    help: 'Last known canary analysis status: 0 running (Progressing), 1 successful (other phases), 2 failed',
    labelNames: ['name', 'namespace'],
    registers,
  });
  const weight = new Gauge({
    name: 'fledge_canary_weight',
    help: 'Traffic weight percent of a workload: <target> for the canary, <target>-primary for the primary',
    labelNames: ['workload', 'namespace'],
    registers,
  });
  const total = new Gauge({
    name: 'fledge_canary_total',
    help: 'Number of canaries, by namespace',
    labelNames: ['namespace'],
    registers,
  });
  const duration = new Histogram({
    name: 'fledge_canary_duration_seconds',
    help: 'Time spent in one canary analysis tick',
    labelNames: ['name', 'namespace'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const metricAnalysis = new Gauge({
    name: 'fledge_canary_metric_analysis',
    help: 'Last value of a canary analysis metric',
    labelNames: ['name', 'namespace', 'metric'],
    registers,
  });
  const ticks = new Counter({
    name: 'fledge_canary_ticks_total',
    help: 'Canary analysis ticks run',
    labelNames: ['name', 'namespace'],
    registers,
  });
  const drift = new Histogram({
    name: 'fledge_canary_tick_drift_seconds',
    help: 'Lateness of analysis ticks: fire time minus due time',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const written = new Map<string, Written>();
  const track = (namespace: string, name: string): Written => {
    const id = `${namespace}/${name}`;
    let w = written.get(id);
    if (!w) {
      w = { targets: new Set(), metrics: new Set() };
      written.set(id, w);
    }
    return w;
  };

  return {
    setStatus: (namespace, name, phase) => status.set({ name, namespace }, canaryStatusValue(phase)),
    setWeight: (namespace, name, targetName, canaryWeightPercent, primaryWeightPercent) => {
      track(namespace, name).targets.add(targetName);
      weight.set({ workload: targetName, namespace }, canaryWeightPercent);
      weight.set({ workload: `${targetName}-primary`, namespace }, primaryWeightPercent);
    },
    setTotal: (namespace, count) => total.set({ namespace }, count),
    observeTick: (namespace, name, durationMs) => {
      duration.observe({ name, namespace }, durationMs / 1000);
      ticks.inc({ name, namespace });
    },
    observeTickDrift: (driftMs) => drift.observe(driftMs / 1000),
    recordMetric: (namespace, name, metric, value) => {
      track(namespace, name).metrics.add(metric);
      metricAnalysis.set({ name, namespace, metric }, value);
    },
    forget: (namespace, name) => {
      const labels = { name, namespace };
      status.remove(labels);
      duration.remove(labels);
      ticks.remove(labels);
      const w = written.get(`${namespace}/${name}`);
      if (!w) return;
      written.delete(`${namespace}/${name}`);
      for (const metric of w.metrics) metricAnalysis.remove({ ...labels, metric });
      for (const target of w.targets) {
        weight.remove({ workload: target, namespace });
        weight.remove({ workload: `${target}-primary`, namespace });
      }
    },
  };
}
