// Test helper: a test's own small plain-HTTP API server on loopback, with a KubeConfig pointing at it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface LocalApi {
  server: http.Server;
  port: number;
  kc: KubeConfig;
  /** Drops every connection and stops listening. */
  close: () => Promise<void>;
}

export function localKubeConfig(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'user' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'user' }],
    currentContext: 'local',
  });
  return kc;
}

/** Serves `handler` on a free loopback port. */
export async function startLocalApi(handler: http.RequestListener): Promise<LocalApi> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    kc: localKubeConfig(port),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
