// API requests reuse connections: raw requests and client-node's typed clients share a keep-alive agent per
// TLS setup (client-node alone opens a new connection per request), and a request whose kept-alive
// connection the server had closed is sent again on a new one.
import type { Socket } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAgents, makeApiClient } from '../../operator/k8s/agent.js';
import { kubeRequest } from '../../operator/k8s/raw.js';
import { startLocalApi } from '../helpers/local-api.js';

interface CountingServer {
  kc: KubeConfig;
  connections: number;
  requests: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function startServer(): Promise<CountingServer> {
  const state = { connections: 0, requests: 0 };
  const sockets = new Set<Socket>();
  const local = await startLocalApi((req, res) => {
    state.requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
  });
  local.server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return Object.assign(state, { kc: local.kc, sockets, close: local.close });
}

describe('API connections', () => {
  let server: CountingServer | undefined;
  afterEach(async () => {
    closeAgents();
    await server?.close();
    server = undefined;
  });

  it('sends one request after another over one connection, raw and typed', async () => {
    server = await startServer();
    for (let i = 0; i < 5; i++) {
      const r = await kubeRequest(server.kc, {
        method: 'GET',
        path: '/api/v1/namespaces/x',
        timeoutMs: 5000,
      });
      expect(r.status).toBe(200);
    }
    const api = makeApiClient(server.kc, CoreV1Api);
    for (let i = 0; i < 5; i++) expect((await api.readNamespace({ name: 'x' })).metadata?.name).toBe('x');
    expect(server.requests).toBe(10);
    expect(server.connections).toBe(1);
  });

  it('sends a request again on a new connection when the kept one was closed by the server', async () => {
    server = await startServer();
    const get = (): Promise<number> =>
      kubeRequest(server?.kc ?? new KubeConfig(), {
        method: 'GET',
        path: '/api/v1/namespaces/x',
        timeoutMs: 5000,
      }).then((r) => r.status);
    expect(await get()).toBe(200);
    // The server drops the idle connection without the client noticing yet.
    for (const s of server.sockets) s.destroy();
    expect(await get()).toBe(200);
    expect(server.requests).toBe(2);
    expect(server.connections).toBe(2);
  });
});
