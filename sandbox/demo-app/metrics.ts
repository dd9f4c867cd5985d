// The demo app's Prometheus metrics, on a registry of its own per app instance; every series carries the
// app's `version` label, which is what canary analysis selects on.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** 1 ms .. 10 s: wide enough for LATENCY_MS ranges and fine enough for P99 at the low end. */
export const DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface DemoMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'path' | 'code'>;
  httpDuration: Histogram<'method' | 'path' | 'code'>;
  /** Requests being served, by path; lets tests see a request arrive before they act on it. */
  httpInFlight: Gauge<'path'>;
  grpcHandled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  grpcHandling: Histogram<'grpc_service' | 'grpc_method'>;
}

export function createDemoMetrics(version: string): DemoMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ version });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, path (a known route or "other") and status code.',
      labelNames: ['method', 'path', 'code'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to finishing its response, added latency included.',
      labelNames: ['method', 'path', 'code'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    }),
    httpInFlight: new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests received and not yet answered.',
      labelNames: ['path'],
      registers,
    }),
    grpcHandled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls completed on the server, by status code name (OK, UNAVAILABLE, …).',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers,
    }),
    grpcHandling: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from receiving a gRPC call to sending its status, added latency included.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    }),
  };
}
