// Kubelet probes against a real demo app: httpGet, tcpSocket, grpc health and exec, each passing
// and failing; and probe specs that cannot run, with the message the pod condition carries.
import type { V1Container } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoApp } from '../../sandbox/demo-app/app.js';
import { startDemoApp } from '../../sandbox/demo-app/app.js';
import { parseProbe, runProbe } from '../../sandbox/kubelet/probes.js';

const container: V1Container = {
  name: 'app',
  image: 'fledge/demo-app:v1',
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'grpc', containerPort: 9090 },
  ],
};

describe('probe specs', () => {
  it('resolves named ports and defaults the timings as kube does', () => {
    const p = parseProbe(container, { httpGet: { path: '/readyz', port: 'http' } }, 'readinessProbe');
    expect(p).toEqual({
      ok: true,
      value: {
        action: { kind: 'http', port: 8080, path: '/readyz', headers: {}, scheme: 'HTTP' },
        initialDelayMs: 0,
        periodMs: 10_000,
        timeoutMs: 1000,
        successThreshold: 1,
        failureThreshold: 3,
      },
    });
  });

  it.each([
    [
      { httpGet: { path: '/', port: 'metrics' } },
      'readinessProbe.httpGet: port "metrics" names no port of container "app"',
    ],
    [{}, 'readinessProbe: exactly one of httpGet, tcpSocket, grpc, exec must be set (found 0)'],
    [
      { tcpSocket: { port: 8080 }, grpc: { port: 9090 } },
      'readinessProbe: exactly one of httpGet, tcpSocket, grpc, exec must be set (found 2)',
    ],
    [{ exec: { command: [] } }, 'readinessProbe.exec.command: Required value'],
    [{ grpc: { port: 70000 } }, 'readinessProbe: port 70000 is not between 1 and 65535'],
  ])('rejects %j', (probe, message) => {
    expect(parseProbe(container, probe, 'readinessProbe')).toEqual({ ok: false, message });
  });
});

describe('probes against a running demo app', () => {
  let ready: DemoApp;
  let unready: DemoApp;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

  beforeAll(async () => {
    ready = await startDemoApp({ host: '127.0.0.1', httpPort: 0, grpcPort: 0, version: 'v1' });
    unready = await startDemoApp({
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      version: 'v1',
      ready: false,
    });
  });

  afterAll(async () => {
    await ready?.close();
    await unready?.close();
  });

  it('httpGet succeeds on 2xx and fails on 503', async () => {
    expect(
      await runProbe(
        { kind: 'http', port: ready.httpPort, path: '/readyz', headers: {}, scheme: 'HTTP' },
        '127.0.0.1',
        1000,
        env,
      ),
    ).toEqual({ ok: true });
    expect(
      await runProbe(
        { kind: 'http', port: unready.httpPort, path: '/readyz', headers: {}, scheme: 'HTTP' },
        '127.0.0.1',
        1000,
        env,
      ),
    ).toEqual({
      ok: false,
      message: 'HTTP probe failed with statuscode: 503',
    });
  });

  it('tcpSocket succeeds on a listening port and fails on a closed one', async () => {
    expect(await runProbe({ kind: 'tcp', port: ready.grpcPort }, '127.0.0.1', 1000, env)).toEqual({
      ok: true,
    });
    const closed = await runProbe({ kind: 'tcp', port: 1 }, '127.0.0.1', 1000, env);
    expect(closed.ok).toBe(false);
  });

  it('grpc asks the grpc.health.v1 service', async () => {
    expect(
      await runProbe({ kind: 'grpc', port: ready.grpcPort, service: '' }, '127.0.0.1', 2000, env),
    ).toEqual({ ok: true });
    const notServing = await runProbe(
      { kind: 'grpc', port: unready.grpcPort, service: '' },
      '127.0.0.1',
      2000,
      env,
    );
    expect(notServing).toEqual({ ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  it('exec runs the command and looks at its exit code', async () => {
    expect(await runProbe({ kind: 'exec', command: ['true'] }, '127.0.0.1', 1000, env)).toEqual({ ok: true });
    expect((await runProbe({ kind: 'exec', command: ['false'] }, '127.0.0.1', 1000, env)).ok).toBe(false);
  });
});
