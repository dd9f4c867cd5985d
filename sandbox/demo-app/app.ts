// The sandbox demo app in-process: an HTTP and a gRPC server with injectable errors, latency and readiness,
// one per sandbox pod. main.ts is the process around it; tests start it directly on free ports.
import http from 'node:http';
import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { DemoAppConfig } from './config.js';
import { defaultDemoAppConfig, pickLatencyMs } from './config.js';
import type { DemoMetrics } from './metrics.js';
import { createDemoMetrics } from './metrics.js';
import type { EchoResponse } from './proto.js';
import { DEMO_SERVICE_NAME, loadDemoService, toEchoRequest } from './proto.js';

export type { ConfigResult, DemoAppConfig, LatencyRange } from './config.js';
export { defaultDemoAppConfig, parseConfig } from './config.js';

export interface DemoApp {
  /** The address both servers are bound to. */
  host: string;
  /** The bound ports: the configured ones, or the ones picked when 0 was asked for. */
  httpPort: number;
  grpcPort: number;
  /** Flips /readyz and the gRPC health status at run time (ignored once closing). */
  setReady(ready: boolean): void;
  /**
   * Stops accepting, reports NOT_SERVING, lets in-flight requests finish, and after the grace period cuts
   * whatever is left. Idempotent; resolves when both servers are closed.
   */
  close(): Promise<void>;
}

export interface DemoAppOptions {
  /** How long close() waits for in-flight requests before cutting connections; default 900 ms. */
  shutdownGraceMs?: number;
}

/** Known routes are metric label values as they are; every other path is counted as `other`. */
const ROUTES = new Set(['/', '/healthz', '/readyz', '/metrics']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Resolves after `ms`, or at once when `signal` aborts (the response is then written to a cut connection). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function listenHttp(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(addr !== null && typeof addr === 'object' ? addr.port : port);
    });
  });
}

function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
}

interface AppState {
  config: DemoAppConfig;
  metrics: DemoMetrics;
  ready: boolean;
  closing: boolean;
  /** Aborted when the grace period ends: pending latency timers fire at once. */
  abort: AbortController;
}

function httpHandler(state: AppState): http.RequestListener {
  const { config, metrics } = state;
  const host = hostname();
  return (req, res) => {
    const startedAt = performance.now();
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const route = ROUTES.has(path) ? path : 'other';
    const method = METHODS.has(req.method ?? '') ? (req.method ?? 'GET') : 'OTHER';
    metrics.httpInFlight.inc({ path: route });
    res.once('finish', () => {
      const labels = { method, path: route, code: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - startedAt) / 1000);
    });
    res.once('close', () => metrics.httpInFlight.dec({ path: route }));

    const send = (status: number, contentType: string, body: string): void => {
      const headers: http.OutgoingHttpHeaders = {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
      };
      // Without this a kept-alive connection would hold server.close() open until the grace period ends.
      if (state.closing) headers['connection'] = 'close';
      res.writeHead(status, headers).end(body);
    };
    const sendJson = (status: number, body: object): void =>
      send(status, 'application/json', `${JSON.stringify(body)}\n`);

    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(404, { error: `no route for ${req.method ?? ''} ${path}` });
      return;
    }
    switch (path) {
      case '/': {
        const fail = Math.random() < config.errorRate;
        const identity = {
          version: config.version,
          pod: config.podName,
          namespace: config.namespace,
          hostname: host,
        };
        void delay(pickLatencyMs(config.latency), state.abort.signal).then(() => {
          if (fail)
            sendJson(500, { error: `injected failure (ERROR_RATE=${config.errorRate})`, ...identity });
          else sendJson(200, identity);
        });
        return;
      }
      case '/healthz':
        send(200, 'text/plain; charset=utf-8', 'ok');
        return;
      case '/readyz':
        if (state.ready && !state.closing) send(200, 'text/plain; charset=utf-8', 'ok');
        else
          send(503, 'text/plain; charset=utf-8', state.closing ? 'shutting down' : 'not ready (READY=false)');
        return;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => send(200, metrics.registry.contentType, text),
          (err: unknown) => send(500, 'text/plain; charset=utf-8', `metrics: ${String(err)}`),
        );
        return;
      default:
        sendJson(404, { error: `no route for ${req.method ?? ''} ${path}` });
    }
  };
}

function echoHandler(state: AppState): grpc.handleUnaryCall<object, EchoResponse> {
  const { config, metrics } = state;
  const labels = { grpc_service: DEMO_SERVICE_NAME, grpc_method: 'Echo' };
  return (call, callback) => {
    const startedAt = performance.now();
    const fail = Math.random() < config.errorRate;
    const request = toEchoRequest(call.request);
    void delay(pickLatencyMs(config.latency), state.abort.signal).then(() => {
      const code = call.cancelled ? grpc.status.CANCELLED : fail ? grpc.status.UNAVAILABLE : grpc.status.OK;
      metrics.grpcHandled.inc({ ...labels, grpc_code: grpc.status[code] });
      metrics.grpcHandling.observe(labels, (performance.now() - startedAt) / 1000);
      if (code === grpc.status.OK) {
        callback(null, { message: request.message, version: config.version, pod: config.podName });
      } else {
        callback({ code, details: `injected failure (ERROR_RATE=${config.errorRate})` });
      }
    });
  };
}

/**
 * Starts the demo app's HTTP and gRPC servers on `config.host` (fields not given take their defaults, see
 * defaultDemoAppConfig). `exitAfterMs` and `failStart` are process-level and left to main.ts.
 */
export async function startDemoApp(
  partial: Partial<DemoAppConfig> = {},
  options: DemoAppOptions = {},
): Promise<DemoApp> {
  const config: DemoAppConfig = { ...defaultDemoAppConfig(), ...partial };
  const shutdownGraceMs = options.shutdownGraceMs ?? 900;
  const state: AppState = {
    config,
    metrics: createDemoMetrics(config.version),
    ready: config.ready,
    closing: false,
    abort: new AbortController(),
  };
  const servingStatus = (): 'SERVING' | 'NOT_SERVING' =>
    state.ready && !state.closing ? 'SERVING' : 'NOT_SERVING';
  // "" is the server's overall status, as grpc_health_probe and kubelet gRPC probes ask for it by default.
  const health = new HealthImplementation({ '': servingStatus(), [DEMO_SERVICE_NAME]: servingStatus() });
  const publishHealth = (): void => {
    health.setStatus('', servingStatus());
    health.setStatus(DEMO_SERVICE_NAME, servingStatus());
  };

  const httpServer = http.createServer(httpHandler(state));
  const grpcServer = new grpc.Server();
  grpcServer.addService(loadDemoService(), { Echo: echoHandler(state) });
  health.addToServer(grpcServer);

  const httpPort = await listenHttp(httpServer, config.host, config.httpPort);
  let grpcPort: number;
  try {
    grpcPort = await bindGrpc(grpcServer, config.host, config.grpcPort);
  } catch (err) {
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    throw err;
  }

  const shutdown = async (): Promise<void> => {
    state.closing = true;
    publishHealth();
    const force = setTimeout(() => {
      state.abort.abort();
      httpServer.closeAllConnections();
      grpcServer.forceShutdown();
    }, shutdownGraceMs);
    try {
      await Promise.all([
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        }),
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
      ]);
    } finally {
      clearTimeout(force);
    }
  };
  let closed: Promise<void> | undefined;

  return {
    host: config.host,
    httpPort,
    grpcPort,
    setReady: (ready) => {
      if (state.closing) return;
      state.ready = ready;
      publishHealth();
    },
    close: () => (closed ??= shutdown()),
  };
}
