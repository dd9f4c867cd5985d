// The Graphite metric provider: the render API as JSON over the metric's interval, with optional basic auth
// from the secret keys username and password (as in Flagger).
import type { MetricResult, MetricsProvider, ProviderSettings, QueryOptions, Result } from '../types.js';
import { HttpClient, asRecord, guard, guardHealth } from './http.js';
import type { ProviderQueryOptions } from './settings.js';
import { basicAuth, intervalOf, parseAddress, parseHeaders, parseTimeoutMs } from './settings.js';

export class GraphiteProvider implements MetricsProvider {
  readonly type = 'graphite';

  constructor(private readonly http: HttpClient) {}

  /**
   * GET /render?target=…&format=json&from=-<interval>. The query is the target expression; a query starting
   * with `target=` is taken as render parameters instead (Flagger's form, which may set from/until itself).
   * The value is the last non-null datapoint of the single series. Never rejects.
   */
  query(query: string, opts: ProviderQueryOptions = {}): Promise<MetricResult> {
    return guard(this.http.where, async () => {
      const interval = intervalOf(opts);
      if (!interval.ok) return { kind: 'bad-query', message: `graphite provider: ${interval.message}` };
      const sent = await this.http.sendJson({
        method: 'GET',
        path: '/render',
        params: renderParams(query, interval.value),
        signal: opts.signal,
      });
      if (!sent.ok) return sent.failure;
      return this.interpret(sent.json);
    });
  }

  /** Whether the render API answers JSON: a constant series over the last minute. */
  health(opts: QueryOptions = {}): Promise<{ ok: true } | { ok: false; message: string }> {
    return guardHealth(this.http.where, async () => {
      const sent = await this.http.sendJson({
        method: 'GET',
        path: '/render',
        params: { target: 'constantLine(1)', format: 'json', from: '-1min' },
        signal: opts.signal,
      });
      if (!sent.ok) return { ok: false, message: sent.failure.message };
      if (!Array.isArray(sent.json)) {
        return { ok: false, message: this.http.malformed('a render result that is not a list').message };
      }
      return { ok: true };
    });
  }

  private interpret(json: unknown): MetricResult {
    if (!Array.isArray(json)) return this.http.malformed('a render result that is not a list of series');
    if (json.length === 0) {
      return {
        kind: 'no-data',
        message: 'Graphite returned no series for the target: check the metric path',
      };
    }
    if (json.length > 1) {
      const shown = json.slice(0, 3).map((s: unknown) => {
        const target = asRecord(s)?.['target'];
        return typeof target === 'string' ? target : '?';
      });
      return {
        kind: 'multiple-series',
        count: json.length,
        message:
          `the target returned ${json.length} series (${shown.join(', ')}${json.length > 3 ? ', …' : ''}), ` +
          'not one: combine them, e.g. with sumSeries(...)',
      };
    }
    const points = asRecord(json[0])?.['datapoints'];
    if (!Array.isArray(points)) return this.http.malformed('a series without datapoints');
    for (let i = points.length - 1; i >= 0; i--) {
      const point: unknown = points[i];
      if (!Array.isArray(point)) return this.http.malformed('a datapoint that is not [value, time]');
      const raw: unknown = point[0];
      if (raw === null || raw === undefined) continue;
      // Graphite writes numbers; some compatible servers write them as strings.
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      if (typeof raw !== 'number' && (typeof raw !== 'string' || raw.trim() === '' || Number.isNaN(value))) {
        return this.http.malformed(`a datapoint value ${JSON.stringify(raw)}`);
      }
      if (Number.isNaN(value)) continue;
      return { kind: 'value', value };
    }
    return {
      kind: 'no-data',
      message: 'Graphite returned only null datapoints for the target in the interval',
    };
  }
}

/** Render parameters for a query: format=json always; from=-<interval> unless the query sets from itself. */
export function renderParams(query: string, intervalMs: number): Record<string, string> {
  // Templates span lines; like Flagger, runs of whitespace become one space.
  const flat = query.replace(/\s+/g, ' ').trim();
  const params: Record<string, string> = {};
  if (/^target=/.test(flat)) {
    // Flagger's form: `target=…&from=…`, already URL-encoded where it needs to be.
    for (const [k, v] of new URLSearchParams(flat)) params[k.trim()] = v.trim();
  } else {
    params['target'] = flat;
  }
  params['format'] = 'json';
  params['from'] ??= `-${graphiteDuration(intervalMs)}`;
  return params;
}

/** A Graphite relative time: whole minutes as `5min`, else seconds (rounded up) as `90s`. */
function graphiteDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}min` : `${Math.ceil(ms / 1000)}s`;
}

/** Builds a Graphite provider. Address required; secret keys username and password optional (both or neither). */
export function graphiteProvider(settings: ProviderSettings): Result<MetricsProvider> {
  const address = parseAddress(settings);
  if (!address.ok) return address;
  const timeoutMs = parseTimeoutMs(settings);
  if (!timeoutMs.ok) return timeoutMs;
  const headers = parseHeaders(settings);
  if (!headers.ok) return headers;
  const basic = basicAuth(settings);
  if (!basic.ok) return basic;
  const http = new HttpClient({
    service: 'Graphite',
    baseUrl: address.value,
    timeoutMs: timeoutMs.value,
    insecureSkipVerify: settings.insecureSkipVerify === true,
    customHeaders: headers.value,
    credentialHeaders: basic.value !== undefined ? { Authorization: basic.value } : {},
    authHint:
      basic.value !== undefined
        ? 'check the secret keys "username" and "password"'
        : 'it needs credentials: give the secret keys "username" and "password"',
  });
  return { ok: true, value: new GraphiteProvider(http) };
}
