// End to end on the sandbox (operator, embedded mesh, Prometheus, real grpc-js-xds clients): one Canary runs
// four releases, one per strategy of SPEC §3.4 — A/B testing, blue/green, canary with session affinity, and
// blue/green with mirroring — and what the clients get during each run is checked against the strategy.
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../../crds/schema/flagger.js';
import { envoyRoot } from '../../mesh/snapshot.js';
import { typeOfUrl } from '../../mesh/protos.js';
import { TYPE_URLS } from '../../mesh/translate/index.js';
import { loadAdsService } from '../../mesh/xds/ads.js';
import { getJson } from '../../operator/k8s/raw.js';
import type { Operator } from '../../operator/main.js';
import { startOperator } from '../../operator/main.js';
import type { SandboxCluster } from '../../sandbox/cluster.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import {
  createObject,
  DEMO_GRPC_PORT,
  DEMO_NAME,
  DEMO_NAMESPACE,
  demoCanary,
  deployDemoApp,
  grpcSuccessRateTemplate,
  patchObject,
  releaseDemoVersion,
} from '../../sandbox/demo.js';
import { installCrds } from '../helpers/crds.js';
import { waitFor } from '../helpers/wait-for.js';
import { RawAdsClient, struct } from '../mesh/ads-client.js';
import { MetadataClient, runCalls, tally } from '../mesh/mesh-fixture.js';
import { testLogger } from '../helpers/log.js';

const CANARY_PATH = `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`;
const NODE_ID = 'strategies-e2e';
const INSIDER = { 'x-canary': 'insider' };

describe('strategies end to end (sandbox, Prometheus, grpc-js-xds)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;
  let client: MetadataClient;
  const log = testLogger('strategies.e2e');

  const canary = async (): Promise<CanaryStatus> =>
    (await getJson<{ status?: CanaryStatus }>(cluster.kc, CANARY_PATH, 5000)).status ?? {};
  /** Versions answering `n` calls carrying `metadata`, errors as `error:<CODE>`. */
  const versions = async (
    n: number,
    metadata: Record<string, string> = {},
  ): Promise<Record<string, number>> =>
    tally(await runCalls(n, () => client.echo({ message: 'e2e' }, metadata)));
  const analysis = (a: object): Promise<void> =>
    patchObject(cluster.kc, CANARY_PATH, { spec: { analysis: a } });
  /**
   * Releases `version` and waits for its run to start and end; `during` runs on every poll of a Progressing
   * canary. A spec the operator refuses fails here with its Validated condition.
   */
  const release = async (
    version: string,
    during: (s: CanaryStatus) => Promise<void>,
  ): Promise<CanaryStatus> => {
    const previous = (await canary()).lastAppliedSpec;
    await releaseDemoVersion(cluster.kc, { version });
    let last: CanaryStatus = {};
    await waitFor(
      async () => {
        last = await canary();
        const invalid = last.conditions?.find((c) => c.type === 'Validated' && c.status === 'False');
        if (invalid) throw new Error(`the Canary is invalid: ${invalid.message ?? ''}`);
        return last.lastAppliedSpec !== previous;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `the run of ${version} to start` },
    );
    await waitFor(
      async () => {
        last = await canary();
        if (last.phase === 'Progressing' || last.phase === 'WaitingPromotion') await during(last);
        return last.phase === 'Succeeded' || last.phase === 'Failed';
      },
      { timeoutMs: 150_000, intervalMs: 500, what: `the run of ${version} to end` },
    );
    return last;
  };
  const noMetrics = { metrics: null };

  beforeAll(async () => {
    cluster = await startSandboxCluster({ prometheus: true, scrapeIntervalMs: 500, backoffBaseMs: 500 });
    await installCrds(cluster.kc);
    await deployDemoApp(cluster.kc, { version: 'v1' });
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/metrictemplates`,
      grpcSuccessRateTemplate(cluster.prometheus?.url ?? ''),
    );
    operator = await startOperator({ kc: cluster.kc, log, metricsServer: cluster.prometheus?.url ?? '' });
    // A/B testing: iterations + match.
    const manifest = demoCanary({
      interval: '10s',
      stepWeight: 1,
      maxWeight: 1,
      threshold: 2,
      metricInterval: '10s',
    });
    const spec = (manifest as { spec: { analysis: Record<string, unknown> } }).spec;
    delete spec.analysis.stepWeight;
    delete spec.analysis.maxWeight;
    Object.assign(spec.analysis, {
      iterations: 2,
      match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    });
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`,
      manifest,
    );
    await waitFor(async () => (await canary()).phase === 'Initialized', {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the canary to be Initialized',
    });
    grpcXds.register();
    const bootstrap = {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${operator.mesh?.xdsPort ?? 0}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: NODE_ID, locality: {}, metadata: { kind: 'proxyless', namespace: DEMO_NAMESPACE } },
    };
    client = new MetadataClient(`xds:///${DEMO_NAME}.${DEMO_NAMESPACE}.svc.cluster.local:${DEMO_GRPC_PORT}`, {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    });
    await waitFor(async () => (await versions(1))['v1'] === 1, { timeoutMs: 20_000, what: 'calls answered' });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await operator?.stop();
    await cluster?.stop();
  }, 30_000);

  it('A/B: during the run only the matching calls reach the canary; after it the primary serves v2', async () => {
    const seen = { matching: {} as Record<string, number>, other: {} as Record<string, number> };
    let iterations = 0;
    const end = await release('v2', async (s) => {
      // Matching traffic keeps the canary's metrics alive; both kinds are counted once the match route is on.
      const matching = await versions(40, INSIDER);
      const other = await versions(40);
      // The status is written before the routes change: iteration 2 is the first one surely served.
      if ((s.iterations ?? 0) < 2) return;
      iterations = Math.max(iterations, s.iterations ?? 0);
      for (const [k, v] of Object.entries(matching)) seen.matching[k] = (seen.matching[k] ?? 0) + v;
      for (const [k, v] of Object.entries(other)) seen.other[k] = (seen.other[k] ?? 0) + v;
    });
    expect(end.phase).toBe('Succeeded');
    expect(iterations).toBe(2);
    expect(seen.matching['v2'] ?? 0).toBeGreaterThan(0);
    expect(Object.keys(seen.matching)).toEqual(['v2']);
    expect(Object.keys(seen.other)).toEqual(['v1']);
    await waitFor(async () => (await versions(20))['v2'] === 20, { what: 'v2 from the primary' });
  }, 200_000);

  it('blue/green: no user call reaches the canary before the switch, all of them after it', async () => {
    await analysis({ match: null, ...noMetrics });
    const serving = Object.keys(await versions(20));
    const before: Record<string, number> = {};
    const errors: string[] = [];
    const after: Record<string, number> = {};
    const end = await release('v3', async (s) => {
      const results = await runCalls(40, () => client.echo({ message: 'e2e' }, INSIDER));
      for (const r of results)
        if (!r.ok) errors.push(`${s.iterations ?? 0}/${s.canaryWeight ?? 0}: ${r.details}`);
      const got = tally(results);
      // Routes change only after the status says so: a stored weight of 0 means no switch yet.
      const into = (s.canaryWeight ?? 0) === 0 ? before : after;
      for (const [k, v] of Object.entries(got)) into[k] = (into[k] ?? 0) + v;
    });
    expect(end.phase).toBe('Succeeded');
    expect(Object.keys(before), errors.slice(0, 5).join('\n')).toEqual(serving);
    expect(after['v3'] ?? 0).toBeGreaterThan(0);
  }, 200_000);

  it('session affinity: the served route matches the cookie and sets it; a call carrying it stays on the canary', async () => {
    await analysis({
      iterations: null,
      stepWeight: 50,
      maxWeight: 50,
      sessionAffinity: { cookieName: 'canary-session', maxAge: 60 },
    });
    let checked = false;
    let cookie = '';
    const end = await release('v4', async (s) => {
      if (checked || s.canaryWeight !== 50) return;
      cookie = `canary-session=${s.lastAppliedSpec ?? ''}`;
      // The status names the run's cookie, as Flagger's does.
      expect(s.sessionAffinityCookie).toBe(cookie);
      const served = await fetch(
        `http://127.0.0.1:${operator.http.port}/debug/config_dump?proxy=${encodeURIComponent(NODE_ID)}`,
      ).then((r) => r.text());
      expect(served).toContain(`${cookie}; Max-Age=60`);
      expect(served).toContain(`.*${cookie}.*`);
      const sticky = await versions(60, { cookie: `theme=dark; ${cookie}; lang=en` });
      const plain = await versions(200);
      expect(sticky).toEqual({ v4: 60 });
      expect(plain['v3'] ?? 0).toBeGreaterThan(0);
      expect(plain['v4'] ?? 0).toBeGreaterThan(0);
      checked = true;
    });
    expect(checked).toBe(true);
    expect(end.phase).toBe('Succeeded');
    // Promoted: the run's cookie is now the previous one, which the routes at weight 0 expire.
    expect(end.sessionAffinityCookie).toBeUndefined();
    expect(end.previousSessionAffinityCookie).toBe(cookie);
  }, 200_000);

  it('mirroring: a sidecar gets the mirror to the canary cluster, and the primary answers every call', async () => {
    await analysis({
      stepWeight: null,
      maxWeight: null,
      sessionAffinity: null,
      iterations: 2,
      mirror: true,
      mirrorWeight: 50,
    });
    const serving = Object.keys(await versions(20));
    const sidecar = new RawAdsClient(operator.mesh?.xdsPort ?? 0, loadAdsService(), {
      id: 'strategies-e2e-sidecar',
      metadata: struct({ kind: 'sidecar', namespace: DEMO_NAMESPACE }),
    });
    const routeType = typeOfUrl(envoyRoot(), TYPE_URLS.route);
    const names = [String(DEMO_GRPC_PORT)];
    sidecar.send({ type_url: TYPE_URLS.route, resource_names: names });
    let mirrored: string | undefined;
    /** ACKs what the mesh pushed to the sidecar and keeps the first route config with a mirror. */
    const pump = async (): Promise<void> => {
      for (const r of await sidecar.drain(100)) {
        sidecar.send({
          type_url: r.type_url,
          resource_names: names,
          version_info: r.version_info,
          response_nonce: r.nonce,
        });
        const bytes = r.values.get(String(DEMO_GRPC_PORT));
        const config = bytes === undefined ? '' : JSON.stringify(routeType.toObject(routeType.decode(bytes)));
        if (mirrored === undefined && /request_?mirror_?policies/i.test(config)) mirrored = config;
      }
    };
    const during: Record<string, number> = {};
    try {
      const end = await release('v5', async (s) => {
        await pump();
        if ((s.iterations ?? 0) < 2 || (s.canaryWeight ?? 0) > 0) return;
        const got = await versions(40);
        for (const [k, v] of Object.entries(got)) during[k] = (during[k] ?? 0) + v;
      });
      expect(end.phase).toBe('Succeeded');
    } finally {
      sidecar.close();
    }
    const text = mirrored ?? '';
    expect(text).toMatch(/outbound\|9999\|\|podinfo-canary\.default\.svc\.cluster\.local/);
    // 50% as Envoy spells it: 500000 per MILLION (enum value 2).
    expect(text).toMatch(/"numerator":500000,"denominator":2\b/);
    expect(Object.keys(during)).toEqual(serving);
  }, 200_000);
});
