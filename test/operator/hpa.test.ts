// operator/hpa.ts: the primary HPA as a table, then DeploymentWorkload with spec.autoscalerRef on the sandbox
// API server (HPA objects only; no metrics-server is needed): bootstrap, promotion, scaling to zero.
import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../crds/schema/flagger.js';
import { buildPrimaryHpa, updatedPrimaryHpa } from '../../operator/hpa.js';
import { DeploymentWorkload } from '../../operator/workload.js';
import { testCanary, testDeployment } from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import { createParsedCanary } from '../helpers/parsed-canary.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';

const NS = 'hpa';

function hpa(name: string, target: string, min: number | undefined, max: number): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: NS, labels: { team: 'a' } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      ...(min !== undefined ? { minReplicas: min } : {}),
      maxReplicas: max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    },
  };
}

const canaryWith = (autoscalerRef: Record<string, unknown>): Canary =>
  ({
    metadata: { name: 'app', namespace: NS },
    spec: {
      autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...autoscalerRef },
    },
  }) as unknown as Canary;

const owner = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'app', uid: 'u', controller: true };

describe('primary HPA builder', () => {
  it('targets the primary with the target HPA’s spec and labels, owned by the Canary', () => {
    const built = buildPrimaryHpa(canaryWith({ name: 'app' }), hpa('app', 'app', 2, 5), 'app-primary', owner);
    expect(built.metadata).toEqual({
      name: 'app-primary',
      namespace: NS,
      labels: { team: 'a' },
      ownerReferences: [owner],
    });
    expect(built.spec).toEqual({
      ...hpa('app', 'app', 2, 5).spec,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-primary' },
    });
  });

  it.each([
    [{}, { minReplicas: 2, maxReplicas: 5 }],
    [{ minReplicas: 3 }, { minReplicas: 3, maxReplicas: 5 }],
    [
      { minReplicas: 4, maxReplicas: 8 },
      { minReplicas: 4, maxReplicas: 8 },
    ],
    [{ maxReplicas: 9 }, { minReplicas: 2, maxReplicas: 9 }],
  ])('primaryScalerReplicas %j → %j', (override, expected) => {
    const canary = canaryWith({ name: 'app', primaryScalerReplicas: override });
    expect(buildPrimaryHpa(canary, hpa('app', 'app', 2, 5), 'app-primary', owner).spec).toMatchObject(
      expected,
    );
  });

  it('updates only on a change; an absent minReplicas equals 1', () => {
    const desired = buildPrimaryHpa(
      canaryWith({ name: 'app' }),
      hpa('app', 'app', undefined, 5),
      'app-primary',
      owner,
    );
    const stored = { ...desired, metadata: { ...desired.metadata, resourceVersion: '3' } };
    expect(updatedPrimaryHpa(stored, desired)).toBeNull();
    expect(updatedPrimaryHpa({ ...stored, spec: { ...desired.spec!, minReplicas: 1 } }, desired)).toBeNull();
    const wider = buildPrimaryHpa(
      canaryWith({ name: 'app' }),
      hpa('app', 'app', undefined, 7),
      'app-primary',
      owner,
    );
    expect(updatedPrimaryHpa(stored, wider)).toMatchObject({
      metadata: { resourceVersion: '3' },
      spec: { maxReplicas: 7 },
    });
  });
});

describe('DeploymentWorkload with an HPA on the sandbox API server', () => {
  let cluster: TestCluster;
  let apps: AppsV1Api;
  let autoscaling: AutoscalingV2Api;
  let workload: DeploymentWorkload;

  const readHpa = (name: string): Promise<V2HorizontalPodAutoscaler> =>
    autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: NS, name });
  const readDeployment = (name: string): Promise<V1Deployment> =>
    apps.readNamespacedDeployment({ namespace: NS, name });

  /** Deployment `name` (1 replica), HPA `name` (min 3, max 6) and its Canary with `autoscalerRef`. */
  async function setUp(name: string, autoscalerRef: Record<string, unknown> = {}): Promise<Canary> {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: testDeployment(NS, name, 1),
    });
    await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: NS, body: hpa(name, name, 3, 6) });
    return createParsedCanary(
      cluster.kc,
      testCanary(NS, name, {
        spec: {
          autoscalerRef: {
            apiVersion: 'autoscaling/v2',
            kind: 'HorizontalPodAutoscaler',
            name,
            ...autoscalerRef,
          },
        },
      }),
    );
  }

  beforeAll(async () => {
    cluster = await startTestCluster();
    apps = cluster.kc.makeApiClient(AppsV1Api);
    autoscaling = cluster.kc.makeApiClient(AutoscalingV2Api);
    await cluster.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    await installCrds(cluster.kc);
    workload = new DeploymentWorkload(cluster.kc, { timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  describe('web (HPA min 3, max 6)', () => {
    let canary: Canary;
    beforeAll(async () => {
      canary = await setUp('web');
    });

    it('bootstrap creates <hpa>-primary scaling the primary, whose replicas start at the HPA’s min', async () => {
      const r = await workload.bootstrap(canary);
      expect(r).toMatchObject({ ok: true });
      if (r.ok) expect(r.value.created).toContain('HorizontalPodAutoscaler/web-primary');
      const primaryHpa = await readHpa('web-primary');
      expect(primaryHpa.spec).toMatchObject({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-primary' },
        minReplicas: 3,
        maxReplicas: 6,
      });
      expect(primaryHpa.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'Canary',
        uid: canary.metadata.uid,
      });
      expect((await readDeployment('web-primary')).spec?.replicas).toBe(3);
      // The target's HPA is the user's: untouched.
      expect((await readHpa('web')).spec?.scaleTargetRef.name).toBe('web');
    });

    it('bootstrap leaves an existing primary HPA alone; promotion updates it and keeps the primary’s replicas', async () => {
      const target = await readHpa('web');
      await autoscaling.replaceNamespacedHorizontalPodAutoscaler({
        namespace: NS,
        name: 'web',
        body: { ...target, spec: { ...target.spec!, minReplicas: 2, maxReplicas: 10 } },
      });
      const before = (await readHpa('web-primary')).metadata?.resourceVersion;
      await workload.bootstrap(canary);
      expect((await readHpa('web-primary')).metadata?.resourceVersion).toBe(before);

      // The target runs 5 replicas while the run is on (its HPA scales it): the primary's HPA owns the primary's.
      await workload.scaleTargetUp(canary);
      await apps.patchNamespacedDeployment({
        namespace: NS,
        name: 'web',
        body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
      });
      const seen = await workload.observe(canary);
      expect(await workload.promote(canary, seen.targetRevision)).toEqual({ ok: true, value: undefined });
      expect((await readHpa('web-primary')).spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
      expect((await readDeployment('web-primary')).spec?.replicas).toBe(3);
    });

    it('scaling the target to zero leaves its HPA alone', async () => {
      const before = (await readHpa('web')).metadata?.resourceVersion;
      expect(await workload.scaleTargetToZero(canary)).toEqual({ ok: true, value: undefined });
      expect((await readDeployment('web')).spec?.replicas).toBe(0);
      expect((await readHpa('web')).metadata?.resourceVersion).toBe(before);
    });
  });

  it('primaryScalerReplicas overrides the primary HPA’s min and max and the primary’s first replicas', async () => {
    const canary = await setUp('api', { primaryScalerReplicas: { minReplicas: 2, maxReplicas: 4 } });
    expect(await workload.bootstrap(canary)).toMatchObject({ ok: true });
    expect((await readHpa('api-primary')).spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect((await readDeployment('api-primary')).spec?.replicas).toBe(2);
  });

  it('a missing HPA is a problem on spec.autoscalerRef.name and nothing is created', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: testDeployment(NS, 'solo', 1),
    });
    const canary = await createParsedCanary(
      cluster.kc,
      testCanary(NS, 'solo', {
        spec: {
          autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'nope' },
        },
      }),
    );
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: false, field: 'spec.autoscalerRef.name' });
    if (!r.ok) expect(r.message).toContain('"nope" not found');
    const names = (await apps.listNamespacedDeployment({ namespace: NS })).items.map((d) => d.metadata?.name);
    expect(names).not.toContain('solo-primary');
  });
});
