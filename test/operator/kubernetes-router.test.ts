// Provider `kubernetes` on the sandbox API server: blue/green by the apex Service's selector (no VirtualService or
// DestinationRule), switched both ways, anything but 100/0 and 0/100 refused; and provider `istio` writing the
// same VirtualService/DestinationRules as `fledge`, read back.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary, CanaryProvider } from '../../crds/schema/flagger.js';
import type { Router } from '../../operator/router.js';
import { createRouter } from '../../operator/router.js';
import { validateCanary } from '../../operator/validate.js';
import { DeploymentWorkload } from '../../operator/workload.js';
import { PODINFO_CANARY_YAML } from '../fixtures/podinfo-canary.js';
import { apply, deploymentsPath, testCanary, testDeployment } from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import { createParsedCanary } from '../helpers/parsed-canary.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';

const routerFor = (provider: CanaryProvider, cluster: TestCluster): Router => {
  const r = createRouter(provider, cluster.kc, { timeoutMs: 5_000 });
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('the kubernetes router on the sandbox API server', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let canary: Canary;
  const ns = 'kube-router';

  const apex = async (): Promise<{ selector: Record<string, string>; resourceVersion: string }> => {
    const s = await core.readNamespacedService({ namespace: ns, name: 'web' });
    return { selector: s.spec?.selector ?? {}, resourceVersion: s.metadata?.resourceVersion ?? '' };
  };
  const router = (): Router => routerFor('kubernetes', cluster);

  beforeAll(async () => {
    cluster = await startTestCluster();
    core = cluster.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await installCrds(cluster.kc);
    expect((await apply(cluster.kc, deploymentsPath(ns), testDeployment(ns, 'web'))).status).toBe(201);
    canary = await createParsedCanary(
      cluster.kc,
      testCanary(ns, 'web', {
        spec: { provider: 'kubernetes' },
        analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 2 },
      }),
    );
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('validation refuses the canary strategy (stepWeight) with provider kubernetes and accepts blue/green', () => {
    const lookups = { metricTemplate: () => undefined, alertProvider: () => undefined };
    expect(validateCanary(canary, lookups)).toEqual([]);
    const weighted: Canary = {
      ...canary,
      spec: { ...canary.spec, analysis: { ...canary.spec.analysis, iterations: undefined, stepWeight: 10 } },
    };
    expect(validateCanary(weighted, lookups).map((p) => p.field)).toContain('spec.analysis.stepWeight');
  });

  it('reads no weights and refuses a switch before the Services exist', async () => {
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: null });
    expect(await router().setRoutes(canary, { primary: 0, canary: 100 })).toMatchObject({
      ok: false,
      field: 'spec.service.name',
    });
  });

  it('after bootstrap the apex selects the primary (100/0) and no VirtualService or DestinationRule exists', async () => {
    expect(await new DeploymentWorkload(cluster.kc).bootstrap(canary)).toMatchObject({ ok: true });
    expect(await router().reconcile(canary)).toEqual({ ok: true, value: undefined });
    expect((await apex()).selector).toEqual({ app: 'web-primary' });
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 100, canary: 0 } });
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    for (const plural of ['virtualservices', 'destinationrules']) {
      const l = (await custom.listNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: ns,
        plural,
      })) as { items: unknown[] };
      expect(l.items).toEqual([]);
    }
  });

  it('switches the apex to the canary pods (0/100) and back, writing only on a change', async () => {
    expect(await router().setRoutes(canary, { primary: 0, canary: 100 })).toEqual({
      ok: true,
      value: { generation: 0 },
    });
    const switched = await apex();
    expect(switched.selector).toEqual({ app: 'web' });
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 0, canary: 100 } });
    expect(await router().setRoutes(canary, { primary: 0, canary: 100 })).toMatchObject({ ok: true });
    expect((await apex()).resourceVersion).toBe(switched.resourceVersion);
    // Every reconcile bootstraps: that leaves the switched selector alone (no write, no flap to the primary).
    expect(await new DeploymentWorkload(cluster.kc).bootstrap(canary)).toMatchObject({ ok: true });
    expect(await apex()).toEqual(switched);

    expect(await router().setRoutes(canary, { primary: 100, canary: 0 })).toMatchObject({ ok: true });
    expect((await apex()).selector).toEqual({ app: 'web-primary' });
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 100, canary: 0 } });
  });

  it('reconcile after a bootstrap keeps the switch the run stands on (status.canaryWeight)', async () => {
    const switchedRun: Canary = { ...canary, status: { phase: 'Progressing', canaryWeight: 100 } };
    expect(await router().setRoutes(switchedRun, { primary: 0, canary: 100 })).toMatchObject({ ok: true });
    // Bootstrap puts the workload's selector (the primary) back on the apex; the router's reconcile follows it.
    expect(await new DeploymentWorkload(cluster.kc).bootstrap(switchedRun)).toMatchObject({ ok: true });
    expect(await router().reconcile(switchedRun)).toMatchObject({ ok: true });
    expect(await router().getWeights(switchedRun)).toEqual({ ok: true, value: { primary: 0, canary: 100 } });
    const done: Canary = { ...canary, status: { phase: 'Succeeded', canaryWeight: 0 } };
    expect(await router().reconcile(done)).toMatchObject({ ok: true });
    expect((await apex()).selector).toEqual({ app: 'web-primary' });
  });

  it('refuses weights, A/B matches, mirroring and session cookies, naming the field, and writes nothing', async () => {
    const before = (await apex()).resourceVersion;
    const weighted = await router().setRoutes(canary, { primary: 90, canary: 10 });
    expect(weighted).toMatchObject({ ok: false, field: 'spec.provider' });
    expect(!weighted.ok && weighted.message).toMatch(/stepWeight.*needs a mesh/);
    const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
    expect(await router().setRoutes(canary, { primary: 0, canary: 100, match })).toMatchObject({
      field: 'spec.analysis.match',
    });
    expect(
      await router().setRoutes(canary, { primary: 100, canary: 0, mirror: { weightPercent: 50 } }),
    ).toMatchObject({ field: 'spec.analysis.mirror' });
    expect(
      await router().setRoutes(canary, {
        primary: 90,
        canary: 10,
        sessionAffinity: { cookieName: 'c', cookieValue: 'v', maxAgeSeconds: 60 },
      }),
    ).toMatchObject({ field: 'spec.analysis.sessionAffinity' });
    expect((await apex()).resourceVersion).toBe(before);
  });

  it('an apex selecting neither side is a problem, not a guess', async () => {
    const svc = await core.readNamespacedService({ namespace: ns, name: 'web' });
    await core.replaceNamespacedService({
      namespace: ns,
      name: 'web',
      body: { ...svc, spec: { ...svc.spec, selector: { app: 'something-else' } } },
    });
    expect(await router().getWeights(canary)).toMatchObject({ ok: false, field: 'spec.service.name' });
    expect(await router().setRoutes(canary, { primary: 100, canary: 0 })).toMatchObject({ ok: true });
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 100, canary: 0 } });
  });
});

describe('provider istio writes the same objects as fledge (read back)', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await installCrds(cluster.kc);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  interface Stored {
    apiVersion: string;
    metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { uid: string }[] };
    spec: unknown;
  }

  /** Reconciles and sets 80/20 for the podinfo Canary with `provider` in its own namespace; reads all back. */
  const written = async (provider: 'fledge' | 'istio', version: string): Promise<Stored[]> => {
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const namespace = `routes-${provider}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const m = YAML.parse(PODINFO_CANARY_YAML) as { metadata: Record<string, unknown>; spec: object };
    const canary = await createParsedCanary(cluster.kc, {
      ...m,
      metadata: { ...m.metadata, namespace },
      spec: { ...m.spec, provider },
    });
    const router = routerFor(provider, cluster);
    expect(await router.reconcile(canary)).toMatchObject({ ok: true });
    expect(await router.setRoutes(canary, { primary: 80, canary: 20 })).toMatchObject({ ok: true });
    const out: Stored[] = [];
    for (const plural of ['virtualservices', 'destinationrules']) {
      const l = (await custom.listNamespacedCustomObject({
        group: 'networking.istio.io',
        version,
        namespace,
        plural,
      })) as { items: Stored[] };
      for (const o of l.items) {
        expect(o.metadata.ownerReferences?.[0]?.uid).toBe(canary.metadata.uid);
        out.push(o);
      }
    }
    return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  };

  it('VirtualService and DestinationRules identical but for the apiVersion (v1beta1 for Istio)', async () => {
    const fledge = await written('fledge', 'v1');
    const istio = await written('istio', 'v1beta1');
    expect(fledge.map((o) => o.metadata.name)).toEqual(['podinfo', 'podinfo-canary', 'podinfo-primary']);
    expect(istio.map((o) => o.apiVersion)).toEqual(Array(3).fill('networking.istio.io/v1beta1'));
    const shape = (o: Stored): object => ({ name: o.metadata.name, labels: o.metadata.labels, spec: o.spec });
    expect(istio.map(shape)).toEqual(fledge.map(shape));
    const vs = istio[0]?.spec as { http?: { route?: { weight?: number }[] }[] };
    expect(vs.http?.[0]?.route?.map((r) => r.weight)).toEqual([80, 20]);
  });
});
