// Shared plain-data types of the analysis library: provider results, thresholds, verdicts.
// Every expected failure is a value of these unions; nothing here throws.

/** What one metric query returned, as data. Messages are for humans and name the cause. */
export type MetricResult =
  | { kind: 'value'; value: number }
  | { kind: 'no-data'; message: string }
  | { kind: 'multiple-series'; count: number; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'bad-query'; message: string }
  | { kind: 'unauthorized'; message: string };

export interface QueryOptions {
  signal?: AbortSignal;
  /**
   * The metric's interval (Canary `metrics[].interval`): the time window of providers whose API
   * takes one (datadog, graphite). Prometheus, InfluxDB and New Relic queries carry their own range.
   */
  intervalMs?: number;
}

/** A metrics backend. Implementations never reject: failures are MetricResult kinds. */
export interface MetricsProvider {
  /** The provider type, e.g. 'prometheus'. */
  readonly type: string;
  query(query: string, opts?: QueryOptions): Promise<MetricResult>;
  /** Whether the backend answers at all (for readiness and clear events). */
  health(opts?: QueryOptions): Promise<{ ok: true } | { ok: false; message: string }>;
}

/** Provider settings as a MetricTemplate gives them, with the Secret's data already resolved. */
export interface ProviderSettings {
  type: string;
  address?: string;
  /** Data of the Secret named by secretRef (decoded to text), when there is one. */
  secret?: Record<string, string>;
  headers?: Record<string, string>;
  insecureSkipVerify?: boolean;
  timeoutMs?: number;
}

export interface ThresholdRange {
  min?: number;
  max?: number;
}

export type OnNoData = 'fail' | 'hold' | 'pass';

export type Outcome = 'pass' | 'fail' | 'hold' | 'dry-run';

/** The result of one check, unchanged from evaluation to events, metrics and notifications. */
export interface Verdict {
  metric: string;
  /** Undefined when there was no usable value. */
  value?: number;
  threshold: ThresholdRange;
  outcome: Outcome;
  /** One sentence a human can act on. */
  reason: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };
