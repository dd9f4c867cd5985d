// The metric-provider factory: ProviderSettings (a MetricTemplate's provider, its Secret resolved) → MetricsProvider.
// An unknown type, a missing setting or secret key is an error naming it; nothing falls back to another type.
import type { MetricsProvider, ProviderSettings, Result } from '../types.js';
import { datadogProvider } from './datadog.js';
import { graphiteProvider } from './graphite.js';
import { influxdbProvider } from './influxdb.js';
import { newrelicProvider } from './newrelic.js';
import { prometheusProvider } from './prometheus.js';

export { DEFAULT_INTERVAL_MS, DEFAULT_TIMEOUT_MS } from './settings.js';
export type { ProviderQueryOptions } from './settings.js';
export { MAX_RESPONSE_BYTES } from './http.js';

export const PROVIDER_TYPES = ['prometheus', 'datadog', 'graphite', 'influxdb', 'newrelic'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export function isProviderType(type: string): type is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(type);
}

/**
 * Builds the provider for settings.type after checking its settings and secret keys. Each provider's own
 * builder documents what it needs. The provider's requests use settings.timeoutMs (default 10 s) combined with
 * the caller's signal, and its queries and health checks never reject.
 */
export function createProvider(settings: ProviderSettings): Result<MetricsProvider> {
  const type = settings.type;
  if (!isProviderType(type)) {
    return {
      ok: false,
      message: `unknown metric provider type ${JSON.stringify(type)}: expected one of ${PROVIDER_TYPES.join(', ')}`,
    };
  }
  switch (type) {
    case 'prometheus':
      return prometheusProvider(settings);
    case 'datadog':
      return datadogProvider(settings);
    case 'graphite':
      return graphiteProvider(settings);
    case 'influxdb':
      return influxdbProvider(settings);
    case 'newrelic':
      return newrelicProvider(settings);
  }
}
