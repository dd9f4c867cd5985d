// Container probes (readiness, liveness, startup) as the kubelet runs them: httpGet, tcpSocket,
// grpc (grpc.health.v1) and exec, against a pod's loopback address, each with a timeout.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export type ProbeAction =
  | { kind: 'http'; port: number; path: string; headers: Record<string, string>; scheme: string }
  | { kind: 'tcp'; port: number }
  | { kind: 'grpc'; port: number; service: string }
  | { kind: 'exec'; command: string[] };

export interface ProbeSpec {
  action: ProbeAction;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export type ParsedProbe = { ok: true; value: ProbeSpec } | { ok: false; message: string };

/** Resolves a probe port (a number or a container port name) against the container's ports. */
function resolvePort(
  container: V1Container,
  port: number | string | undefined,
  field: string,
): number | string {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (named) return named.containerPort;
  return `${field}: port ${JSON.stringify(port ?? '')} names no port of container ${JSON.stringify(container.name)}`;
}

/**
 * Validates and resolves a probe of a container. `field` is the probe's field name
 * (readinessProbe, ...), used in the messages of invalid probes.
 */
export function parseProbe(container: V1Container, probe: V1Probe, field: string): ParsedProbe {
  const handlers = [probe.httpGet, probe.tcpSocket, probe.grpc, probe.exec].filter((h) => h !== undefined);
  if (handlers.length !== 1) {
    return {
      ok: false,
      message: `${field}: exactly one of httpGet, tcpSocket, grpc, exec must be set (found ${handlers.length})`,
    };
  }
  let action: ProbeAction;
  if (probe.httpGet) {
    const port = resolvePort(container, probe.httpGet.port, `${field}.httpGet`);
    if (typeof port === 'string') return { ok: false, message: port };
    const headers: Record<string, string> = {};
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    const scheme = probe.httpGet.scheme ?? 'HTTP';
    if (scheme !== 'HTTP')
      return {
        ok: false,
        message: `${field}.httpGet.scheme: only HTTP is supported in the sandbox, got ${JSON.stringify(scheme)}`,
      };
    action = { kind: 'http', port, path: probe.httpGet.path ?? '/', headers, scheme };
  } else if (probe.tcpSocket) {
    const port = resolvePort(container, probe.tcpSocket.port, `${field}.tcpSocket`);
    if (typeof port === 'string') return { ok: false, message: port };
    action = { kind: 'tcp', port };
  } else if (probe.grpc) {
    action = { kind: 'grpc', port: probe.grpc.port, service: probe.grpc.service ?? '' };
  } else {
    const command = probe.exec?.command ?? [];
    if (command.length === 0) return { ok: false, message: `${field}.exec.command: Required value` };
    action = { kind: 'exec', command };
  }
  if ('port' in action && (action.port < 1 || action.port > 65535)) {
    return { ok: false, message: `${field}: port ${action.port} is not between 1 and 65535` };
  }
  const seconds = (v: number | undefined, dflt: number): number => (v === undefined ? dflt : v) * 1000;
  return {
    ok: true,
    value: {
      action,
      initialDelayMs: seconds(probe.initialDelaySeconds, 0),
      periodMs: Math.max(100, seconds(probe.periodSeconds, 10)),
      timeoutMs: Math.max(100, seconds(probe.timeoutSeconds, 1)),
      successThreshold: probe.successThreshold ?? 1,
      failureThreshold: probe.failureThreshold ?? 3,
    },
  };
}

export type ProbeResult = { ok: true } | { ok: false; message: string };

interface HealthClient {
  Check(
    req: { service: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ): void;
  close(): void;
}

const require = createRequire(import.meta.url);
let healthClientCtor: grpc.ServiceClientConstructor | undefined;

/** The grpc.health.v1.Health client, from the proto file grpc-health-check ships. */
function healthClient(): grpc.ServiceClientConstructor {
  if (!healthClientCtor) {
    const pkgDir = path.dirname(require.resolve('grpc-health-check/package.json'));
    const def = protoLoader.loadSync(path.join(pkgDir, 'proto', 'health', 'v1', 'health.proto'), {
      keepCase: true,
      enums: String,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    healthClientCtor = pkg.grpc.health.v1.Health;
  }
  return healthClientCtor;
}

/** Runs one probe attempt against host; never rejects. */
export function runProbe(
  action: ProbeAction,
  host: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<ProbeResult> {
  switch (action.kind) {
    case 'http':
      return new Promise((resolve) => {
        const req = http.request(
          {
            host,
            port: action.port,
            path: action.path,
            headers: { 'User-Agent': 'kube-probe/1.26', ...action.headers },
            timeout: timeoutMs,
          },
          (res) => {
            res.resume();
            const code = res.statusCode ?? 0;
            resolve(
              code >= 200 && code < 400
                ? { ok: true }
                : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
            );
          },
        );
        req.on('timeout', () =>
          req.destroy(
            new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`),
          ),
        );
        req.on('error', (e) =>
          resolve({ ok: false, message: `Get "http://${host}:${action.port}${action.path}": ${e.message}` }),
        );
        req.end();
      });
    case 'tcp':
      return new Promise((resolve) => {
        const sock = net.connect({ host, port: action.port });
        const timer = setTimeout(() => sock.destroy(new Error('i/o timeout')), timeoutMs);
        sock.once('connect', () => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ ok: true });
        });
        sock.once('error', (e) => {
          clearTimeout(timer);
          resolve({ ok: false, message: `dial tcp ${host}:${action.port}: ${e.message}` });
        });
      });
    case 'grpc':
      return new Promise((resolve) => {
        const Client = healthClient();
        const client = new Client(
          `${host}:${action.port}`,
          grpc.credentials.createInsecure(),
        ) as unknown as HealthClient;
        client.Check(
          { service: action.service },
          { deadline: new Date(Date.now() + timeoutMs) },
          (err, res) => {
            client.close();
            if (err)
              resolve({
                ok: false,
                message: `failed to connect service "${host}:${action.port}" within ${timeoutMs / 1000}s: ${err.details}`,
              });
            else if (res?.status === 'SERVING') resolve({ ok: true });
            else
              resolve({
                ok: false,
                message: `service unhealthy (responded with "${res?.status ?? 'UNKNOWN'}")`,
              });
          },
        );
      });
    case 'exec':
      return new Promise((resolve) => {
        const [cmd, ...args] = action.command;
        execFile(cmd as string, args, { timeout: timeoutMs, env }, (err, _stdout, stderr) => {
          if (!err) resolve({ ok: true });
          else
            resolve({
              ok: false,
              message: `command ${JSON.stringify(action.command.join(' '))} failed: ${stderr.trim() || err.message}`,
            });
        });
      });
  }
}
