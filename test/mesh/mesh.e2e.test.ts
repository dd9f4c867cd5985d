// End to end through the assembled mesh: VirtualServices written to the sandbox API server move the calls of
// a real proxyless gRPC xDS client (@grpc/grpc-js-xds); convergence waits, bad updates, and restarts.
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../mesh/debug.js';
import type { DemoClient } from '../../sandbox/demo-app/proto.js';
import { waitFor } from '../helpers/wait-for.js';
import { countCalls, MeshFixture, NS, weightedSpec } from './mesh-fixture.js';

grpcXds.register();

/** Share of `version` in counts, in percent. */
const share = (counts: Record<string, number>, version: string): number => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (100 * (counts[version] ?? 0)) / total;
};

describe('mesh end to end (sandbox API server → mesh → grpc-js-xds)', () => {
  const f = new MeshFixture();
  let client: DemoClient;

  beforeAll(async () => {
    await f.start();
    await f.backend('echo-primary');
    await f.backend('echo-canary');
    await f.service('echo', []);
    await f.virtualService('echo', weightedSpec('echo', 'echo-primary', 'echo-canary', 10));
    await f.startMesh();
    client = f.client('echo');
    await waitFor(async () => (await client.echo({ message: 'warm-up' })).ok, {
      what: 'first call',
      timeoutMs: 15_000,
    });
  }, 60_000);

  afterAll(async () => {
    await f.stop();
  });

  it.each([{ canaryPercent: 10 }, { canaryPercent: 50 }, { canaryPercent: 100 }])(
    'serves $canaryPercent percent to the canary within ±1.5 points over 10,000 calls once the route is ACKed',
    async ({ canaryPercent }) => {
      const gen = await f.virtualService(
        'echo',
        weightedSpec('echo', 'echo-primary', 'echo-canary', canaryPercent),
      );
      const converged = await f.mesh.waitForRoute(NS, 'echo', gen, { timeoutMs: 10_000 });
      expect(converged).toMatchObject({ ok: true });
      expect(converged.proxies).toBeGreaterThanOrEqual(1);
      const counts = await countCalls(client, 10_000);
      expect(Object.keys(counts).filter((k) => k.startsWith('error'))).toEqual([]);
      expect(Math.abs(share(counts, 'echo-canary') - canaryPercent)).toBeLessThanOrEqual(1.5);
    },
    60_000,
  );

  it('reports a bad update with a condition and an event while the last good route keeps serving', async () => {
    const good = await f.virtualService('echo', weightedSpec('echo', 'echo-primary', 'echo-canary', 0));
    expect(await f.mesh.waitForRoute(NS, 'echo', good, { timeoutMs: 10_000 })).toMatchObject({ ok: true });
    // Weights summing to 130 are refused; the regex Envoy's RE2 cannot compile too.
    const bad = weightedSpec('echo', 'echo-primary', 'echo-canary', 30) as {
      http: Array<{ route: Array<{ weight: number }> }>;
    };
    const first = bad.http[0]?.route[0];
    if (first) first.weight = 100;
    const badGen = await f.virtualService('echo', bad);
    const r = await f.mesh.waitForRoute(NS, 'echo', badGen, { timeoutMs: 10_000 });
    expect(r).toMatchObject({ ok: false, reason: 'rejected' });
    const counts = await countCalls(client, 500);
    expect(counts).toEqual({ 'echo-primary': 500 });
    const { CustomObjectsApi, CoreV1Api } = await import('@kubernetes/client-node');
    const api = f.kc.makeApiClient(CustomObjectsApi);
    const vs = await waitFor(async () => {
      const o = (await api.getNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: NS,
        plural: 'virtualservices',
        name: 'echo',
      })) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
      const c = o.status?.conditions?.find((x) => x.type === 'Accepted');
      return c?.status === 'False' ? c : undefined;
    });
    expect(vs.message).toMatch(/spec\.http\[0\]/);
    expect(vs.message).toMatch(new RegExp(`generation ${good} \\(the last good one\\) keeps serving`));
    const events = await f.kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NS });
    expect(
      events.items.some(
        (e) =>
          e.involvedObject.kind === 'VirtualService' &&
          e.type === 'Warning' &&
          /spec\.http\[0\]/.test(e.message ?? ''),
      ),
    ).toBe(true);
  }, 60_000);

  it('serves /debug/syncz and /debug/config_dump for the connected proxy, and xDS metrics', async () => {
    const http = await startHttpServer([f.mesh.debugHandler]);
    try {
      const syncz = (await (await fetch(`http://127.0.0.1:${http.port}/debug/syncz`)).json()) as Array<{
        id: string;
        kind: string;
        acked: Record<string, string>;
      }>;
      const me = syncz.find((p) => p.kind === 'proxyless');
      expect(me).toBeDefined();
      expect(Object.keys(me?.acked ?? {}).length).toBeGreaterThanOrEqual(3);
      const dump = (await (
        await fetch(
          `http://127.0.0.1:${http.port}/debug/config_dump?proxy=${encodeURIComponent(me?.id ?? '')}`,
        )
      ).json()) as Array<{
        types: Array<{ typeUrl: string; resources: Array<{ name: string; resource: unknown }> }>;
      }>;
      const listeners = dump[0]?.types.find((t) => t.typeUrl.endsWith('.Listener'));
      expect(listeners?.resources.map((r) => r.name)).toContain(`echo.${NS}.svc.cluster.local:9000`);
      expect(JSON.stringify(listeners?.resources[0]?.resource)).toContain('outbound|9000||echo-primary');
      const missing = await fetch(`http://127.0.0.1:${http.port}/debug/config_dump?proxy=nobody`);
      expect(missing.status).toBe(404);
    } finally {
      await http.close();
    }
    const text = await f.registry.metrics();
    expect(text).toMatch(/fledge_xds_connected_proxies\{kind="proxyless"\} [1-9]/);
    expect(text).toMatch(/fledge_xds_pushes_total\{type="Listener",kind="proxyless"\} [1-9]/);
    expect(text).toMatch(/fledge_xds_convergence_seconds_count [1-9]/);
  }, 30_000);

  it('restarting the control plane under steady traffic fails no call, and keeps serving the last good route', async () => {
    const port = f.mesh.xdsPort;
    let stop = false;
    const results: Record<string, number> = {};
    const loop = (async () => {
      while (!stop) {
        const c = await countCalls(client, 50);
        for (const [k, v] of Object.entries(c)) results[k] = (results[k] ?? 0) + v;
      }
    })();
    await waitFor(() => (results['echo-primary'] ?? 0) > 200, { what: 'traffic before the restart' });
    await f.mesh.stop();
    const during = results['echo-primary'] ?? 0;
    await waitFor(() => (results['echo-primary'] ?? 0) > during + 200, {
      what: 'traffic while the mesh is down',
    });
    await f.startMesh(port);
    await waitFor(() => f.mesh.ads.syncz().some((p) => p.kind === 'proxyless'), {
      what: 'the client to reconnect',
      timeoutMs: 30_000,
    });
    const after = results['echo-primary'] ?? 0;
    await waitFor(() => (results['echo-primary'] ?? 0) > after + 200, { what: 'traffic after the restart' });
    stop = true;
    await loop;
    expect(Object.keys(results)).toEqual(['echo-primary']);
  }, 60_000);
});
