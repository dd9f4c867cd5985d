// Test helper: an HTTP proxy in front of the sandbox API server, giving one client its own KubeConfig. It counts
// the client's write requests (per path) and can cut the client off (every request and open watch dropped).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeProxy {
  kc: KubeConfig;
  /** Write requests (POST/PUT/PATCH/DELETE) forwarded, as `METHOD path` without the query. */
  readonly writes: string[];
  /** Drops open connections and refuses new requests (network errors) until `down` is set to false. */
  down: boolean;
  close(): Promise<void>;
}

/** A KubeConfig like `kc` (same user and credentials) whose server is `server`. */
export function withServer(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

export async function startKubeProxy(kc: KubeConfig): Promise<KubeProxy> {
  const target = new URL(kc.getCurrentCluster()?.server ?? '');
  const sockets = new Set<Socket>();
  const writes: string[] = [];
  const state = { down: false };
  const server = http.createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET') writes.push(`${method} ${(req.url ?? '').split('?')[0] ?? ''}`);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        // A watch sends its headers before any event: pass them on at once (writeHead alone buffers them).
        res.flushHeaders();
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    kc: withServer(kc, `http://127.0.0.1:${port}`),
    writes,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
      if (v) dropAll();
    },
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
