// operator/workload.ts: the pure builders as tables, then DeploymentWorkload against the sandbox API server
// through client-node (bootstrap, idempotence, promote, scaling, bad input), and one run with the kubelet.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../crds/schema/flagger.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import { parseCanary } from '../../operator/validate.js';
import {
  DeploymentWorkload,
  REVISION_ANNOTATION,
  buildPrimaryDeployment,
  buildServices,
  checkTargetPort,
  primaryReplicas,
  selectorLabel,
  targetRevision,
  updatedService,
  workloadNames,
  workloadObservation,
} from '../../operator/workload.js';
import { PODINFO_CANARY_YAML } from '../fixtures/podinfo-canary.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'test';

/** Flagger's podinfo Canary (test/fixtures), defaulted, with `patch` applied to the manifest's spec. */
function podinfoCanary(
  patch: (spec: Record<string, unknown>) => void = () => undefined,
  uid = 'uid-1',
): Canary {
  const manifest = YAML.parse(PODINFO_CANARY_YAML) as {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown>;
  };
  patch(manifest.spec);
  manifest.metadata.uid = uid;
  const parsed = parseCanary(manifest);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

/** Creates Flagger's podinfo Canary as `name` targeting `target` and returns it parsed (with its real uid). */
async function createCanary(custom: CustomObjectsApi, name: string, target: string): Promise<Canary> {
  const manifest = YAML.parse(PODINFO_CANARY_YAML) as {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown>;
  };
  manifest.metadata.name = name;
  manifest.spec.targetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: target };
  // No HPA here: the manifest's autoscalerRef is exercised by hpa.test.ts.
  delete manifest.spec.autoscalerRef;
  const created: unknown = await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: NS,
    plural: 'canaries',
    body: manifest,
  });
  const parsed = parseCanary(created);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

function podinfoDeployment(
  opts: { name?: string; replicas?: number; image?: string; matchLabels?: Record<string, string> } = {},
): V1Deployment {
  const name = opts.name ?? 'podinfo';
  const matchLabels = opts.matchLabels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { team: 'a' } },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels },
      template: {
        metadata: {
          labels: { ...matchLabels, version: 'v1' },
          annotations: { 'prometheus.io/scrape': 'true' },
        },
        spec: {
          containers: [
            {
              name: 'podinfod',
              image: opts.image ?? 'ghcr.io/stefanprodan/podinfo:6.0.0',
              ports: [{ name: 'http', containerPort: 9898 }],
            },
          ],
        },
      },
    },
  };
}

describe('workload builders', () => {
  it('names the objects as Flagger does', () => {
    expect(workloadNames(podinfoCanary())).toEqual({
      target: 'podinfo',
      primary: 'podinfo-primary',
      apexService: 'podinfo',
      primaryService: 'podinfo-primary',
      canaryService: 'podinfo-canary',
    });
    const named = podinfoCanary((s) => (s.service = { ...(s.service as object), name: 'web' }));
    expect(workloadNames(named)).toMatchObject({
      primary: 'podinfo-primary',
      apexService: 'web',
      canaryService: 'web-canary',
    });
  });

  it.each([
    [{ app: 'a' }, { key: 'app', value: 'a' }],
    [{ name: 'n' }, { key: 'name', value: 'n' }],
    [{ 'app.kubernetes.io/name': 'k' }, { key: 'app.kubernetes.io/name', value: 'k' }],
    [
      { 'app.kubernetes.io/name': 'k', name: 'n', app: 'a' },
      { key: 'app', value: 'a' },
    ],
    [
      { name: 'n', 'app.kubernetes.io/name': 'k' },
      { key: 'name', value: 'n' },
    ],
  ])('selector label of %j is %j', (matchLabels, expected) => {
    expect(selectorLabel(podinfoDeployment({ matchLabels }))).toEqual({ ok: true, value: expected });
  });

  it('a target without a selector label is a problem naming spec.selector.matchLabels', () => {
    const r = selectorLabel(podinfoDeployment({ matchLabels: { tier: 'web' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.field).toBe('spec.targetRef.name');
    expect(r.message).toContain('spec.selector.matchLabels');
    expect(r.message).toContain('tier');
  });

  it('builds the primary: labels rewritten, others kept, revision and owner set', () => {
    const target = podinfoDeployment({ matchLabels: { app: 'podinfo', tier: 'web' } });
    const sel = { key: 'app', value: 'podinfo' };
    const p = buildPrimaryDeployment(podinfoCanary(), target, sel, 'rev1');
    expect(p.metadata).toEqual({
      name: 'podinfo-primary',
      namespace: NS,
      labels: { team: 'a', app: 'podinfo-primary' },
      annotations: { [REVISION_ANNOTATION]: 'rev1' },
      ownerReferences: [
        {
          apiVersion: 'flagger.app/v1beta1',
          kind: 'Canary',
          name: 'podinfo',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(p.spec?.selector.matchLabels).toEqual({ app: 'podinfo-primary', tier: 'web' });
    expect(p.spec?.template.metadata).toEqual({
      labels: { app: 'podinfo-primary', tier: 'web', version: 'v1' },
      annotations: { 'prometheus.io/scrape': 'true' },
    });
    expect(p.spec?.template.spec).toEqual(target.spec?.template.spec);
    expect(p.spec?.replicas).toBe(2);
    // The target is not modified.
    expect(target.spec?.template.metadata?.labels?.app).toBe('podinfo');
  });

  it.each([
    [3, null, 3],
    [0, null, 1],
    [0, 4, 4],
    [2, 4, 2],
    [0, 0, 1],
  ])('primary replicas: target %i, primary %s → %i', (t, p, expected) => {
    const primary = p === null ? null : podinfoDeployment({ name: 'podinfo-primary', replicas: p });
    expect(primaryReplicas(podinfoDeployment({ replicas: t }), primary)).toBe(expected);
  });

  it('builds the apex, primary and canary Services', () => {
    const canary = podinfoCanary((s) => {
      s.service = {
        ...(s.service as object),
        portName: 'grpc',
        appProtocol: 'grpc',
        apex: { labels: { l: 'apex' }, annotations: { a: 'apex' } },
        canary: { labels: { l: 'canary' } },
      };
    });
    const [apex, primary, can] = buildServices(canary, { key: 'app', value: 'podinfo' });
    const port = { name: 'grpc', port: 9898, targetPort: 9898, protocol: 'TCP', appProtocol: 'grpc' };
    expect(apex?.metadata).toMatchObject({
      name: 'podinfo',
      labels: { l: 'apex' },
      annotations: { a: 'apex' },
    });
    expect(apex?.spec).toEqual({ type: 'ClusterIP', selector: { app: 'podinfo-primary' }, ports: [port] });
    expect(primary?.metadata?.name).toBe('podinfo-primary');
    expect(primary?.metadata?.labels).toBeUndefined();
    expect(primary?.spec?.selector).toEqual({ app: 'podinfo-primary' });
    expect(can?.metadata).toMatchObject({ name: 'podinfo-canary', labels: { l: 'canary' } });
    expect(can?.spec?.selector).toEqual({ app: 'podinfo' });
    for (const s of [apex, primary, can]) expect(s?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
  });

  it('updates an existing Service in place, keeping clusterIP and foreign labels; null when it matches', () => {
    const [desired] = buildServices(podinfoCanary(), { key: 'app', value: 'podinfo' });
    if (!desired) throw new Error('no apex');
    const existing: V1Service = {
      metadata: { name: 'podinfo', namespace: NS, resourceVersion: '7', labels: { owner: 'user' } },
      spec: {
        clusterIP: '10.0.0.9',
        selector: { app: 'podinfo' },
        ports: [{ name: 'http', port: 80, targetPort: 9898, protocol: 'TCP' }],
      },
    };
    const updated = updatedService(existing, desired);
    expect(updated?.spec).toMatchObject({
      clusterIP: '10.0.0.9',
      selector: { app: 'podinfo-primary' },
      ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }],
    });
    expect(updated?.metadata).toMatchObject({ resourceVersion: '7', labels: { owner: 'user' } });
    if (!updated) return;
    expect(updatedService(updated, desired)).toBeNull();
  });

  it('targetRevision hashes the stored template: key order and null fields do not matter, content does', () => {
    const a = podinfoDeployment();
    const reordered = podinfoDeployment();
    const t = reordered.spec?.template;
    if (!t?.spec || !reordered.spec) throw new Error('no template');
    reordered.spec.template = {
      spec: { ...t.spec, dnsPolicy: undefined },
      metadata: { ...t.metadata, creationTimestamp: undefined },
    };
    expect(targetRevision(reordered)).toBe(targetRevision(a));
    expect(targetRevision(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(targetRevision(podinfoDeployment({ image: 'podinfo:6.0.1' }))).not.toBe(targetRevision(a));
    expect(targetRevision(podinfoDeployment({ replicas: 5 }))).toBe(targetRevision(a));
    expect(targetRevision(a, { 'configmap/podinfo': 'abc' })).not.toBe(targetRevision(a));
  });

  it.each([
    [
      'observed',
      { generation: 2 },
      { observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 1 },
      2,
      1,
      3,
    ],
    [
      'not yet observed',
      { generation: 3 },
      { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2 },
      0,
      2,
      2,
    ],
    ['no status', { generation: 1 }, undefined, 0, 0, 0],
  ])('observation (%s)', (_what, metadata, status, updated, ready, replicas) => {
    const d: V1Deployment = { ...podinfoDeployment({ replicas: 2 }), ...(status ? { status } : {}) };
    d.metadata = { ...d.metadata, ...metadata };
    expect(workloadObservation(d)).toEqual({
      desiredReplicas: 2,
      updatedReplicas: updated,
      readyReplicas: ready,
      replicas,
    });
  });

  it.each([
    [9898, []],
    ['http', []],
    ['metrics', ['spec.service.targetPort']],
  ])('targetPort %s → problems %j', (targetPort, fields) => {
    const canary = podinfoCanary((s) => (s.service = { ...(s.service as object), targetPort }));
    expect(checkTargetPort(canary, podinfoDeployment()).map((p) => p.field)).toEqual(fields);
  });
});

describe('DeploymentWorkload on the sandbox API server', () => {
  let cluster: TestCluster;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let workload: DeploymentWorkload;

  const namesIn = async (): Promise<string[]> => [
    ...(await apps.listNamespacedDeployment({ namespace: NS })).items.map(
      (d) => `Deployment/${d.metadata?.name ?? ''}`,
    ),
    ...(await core.listNamespacedService({ namespace: NS })).items.map(
      (s) => `Service/${s.metadata?.name ?? ''}`,
    ),
  ];
  const readDeployment = (name: string): Promise<V1Deployment> =>
    apps.readNamespacedDeployment({ name, namespace: NS });

  beforeAll(async () => {
    cluster = await startTestCluster();
    apps = cluster.kc.makeApiClient(AppsV1Api);
    core = cluster.kc.makeApiClient(CoreV1Api);
    custom = cluster.kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await installCrds(cluster.kc);
    workload = new DeploymentWorkload(cluster.kc, { timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('reports a missing target on spec.targetRef.name and creates nothing', async () => {
    const canary = await createCanary(custom, 'ghost', 'ghost');
    const before = await namesIn();
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    expect(await namesIn()).toEqual(before);
    const seen = await workload.observe(canary);
    expect(seen).toMatchObject({ primary: null, canary: null, targetRevision: '' });
    expect(seen.problems.map((p) => p.field)).toEqual(['spec.targetRef.name']);
  });

  it('reports a target without a selector label and creates nothing', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: podinfoDeployment({ name: 'nolabel', matchLabels: { tier: 'web' } }),
    });
    const canary = await createCanary(custom, 'nolabel', 'nolabel');
    const before = await namesIn();
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    if (!r.ok) expect(r.message).toContain('spec.selector.matchLabels');
    expect(await namesIn()).toEqual(before);
  });

  it('refuses a DaemonSet target (DaemonSetWorkload handles those; see daemonset.test.ts)', async () => {
    const canary = await createCanary(custom, 'daemon', 'daemon');
    canary.spec.targetRef.kind = 'DaemonSet';
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.kind' });
    if (!r.ok) expect(r.message).toContain('DaemonSet target handed to the Deployment workload');
  });

  describe('podinfo', () => {
    let canary: Canary;

    beforeAll(async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: podinfoDeployment({ replicas: 3 }) });
      canary = await createCanary(custom, 'podinfo', 'podinfo');
    });

    it('bootstrap creates the primary and the three Services, owned by the Canary', async () => {
      const r = await workload.bootstrap(canary);
      expect(r).toEqual({
        ok: true,
        value: {
          created: [
            'Deployment/podinfo-primary',
            'Service/podinfo',
            'Service/podinfo-primary',
            'Service/podinfo-canary',
          ],
        },
      });
      const primary = await readDeployment('podinfo-primary');
      const target = await readDeployment('podinfo');
      expect(primary.spec?.replicas).toBe(3);
      expect(primary.spec?.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
      expect(primary.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(targetRevision(target));
      const owners = [primary.metadata?.ownerReferences];
      for (const name of ['podinfo', 'podinfo-primary', 'podinfo-canary']) {
        const s = await core.readNamespacedService({ name, namespace: NS });
        owners.push(s.metadata?.ownerReferences);
        expect(s.spec?.ports).toMatchObject([
          { name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' },
        ]);
        expect(s.spec?.selector).toEqual({ app: name === 'podinfo-canary' ? 'podinfo' : 'podinfo-primary' });
      }
      for (const refs of owners)
        expect(refs).toEqual([
          expect.objectContaining({
            kind: 'Canary',
            name: 'podinfo',
            uid: canary.metadata.uid,
            controller: true,
          }),
        ]);
    });

    it('bootstrap run twice changes nothing', async () => {
      const versions = async (): Promise<(string | undefined)[]> => [
        (await readDeployment('podinfo-primary')).metadata?.resourceVersion,
        ...(await Promise.all(
          ['podinfo', 'podinfo-primary', 'podinfo-canary'].map(
            async (name) =>
              (await core.readNamespacedService({ name, namespace: NS })).metadata?.resourceVersion,
          ),
        )),
      ];
      const before = await versions();
      expect(await workload.bootstrap(canary)).toEqual({ ok: true, value: { created: [] } });
      expect(await versions()).toEqual(before);
    });

    it('observe reports both workloads and the revisions', async () => {
      const target = await readDeployment('podinfo');
      const seen = await waitFor(
        async () => {
          const o = await workload.observe(canary);
          return o.canary?.updatedReplicas === 3 && o.primary?.updatedReplicas === 3 ? o : undefined;
        },
        { what: 'the deployment controller to observe both Deployments' },
      );
      expect(seen.problems).toEqual([]);
      expect(seen.targetRevision).toBe(targetRevision(target));
      expect(seen.primary).toMatchObject({ desiredReplicas: 3, revision: seen.targetRevision });
      expect(seen.canary).toMatchObject({ desiredReplicas: 3 });
    });

    it('bootstrap never overwrites the primary; promote copies a changed image and the revision', async () => {
      await apps.patchNamespacedDeployment({
        name: 'podinfo',
        namespace: NS,
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'podinfo:6.0.1' }],
      });
      const before = await readDeployment('podinfo-primary');
      await workload.bootstrap(canary);
      expect((await readDeployment('podinfo-primary')).metadata?.resourceVersion).toBe(
        before.metadata?.resourceVersion,
      );

      const seen = await workload.observe(canary);
      expect(seen.targetRevision).not.toBe(seen.primary?.revision);
      expect(await workload.promote(canary, 'stale')).toMatchObject({
        ok: false,
        field: 'spec.targetRef.name',
      });
      expect(await workload.promote(canary, seen.targetRevision)).toEqual({ ok: true, value: undefined });
      const primary = await readDeployment('podinfo-primary');
      expect(primary.spec?.template.spec?.containers[0]?.image).toBe('podinfo:6.0.1');
      expect(primary.spec?.template.metadata?.labels).toMatchObject({
        app: 'podinfo-primary',
        version: 'v1',
      });
      expect(primary.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(seen.targetRevision);
      expect((await workload.observe(canary)).primary?.revision).toBe(seen.targetRevision);
    });

    it('scales the target to zero and back up to the primary’s replicas', async () => {
      expect(await workload.scaleTargetToZero(canary)).toEqual({ ok: true, value: undefined });
      expect((await readDeployment('podinfo')).spec?.replicas).toBe(0);
      // A promote while the target is at zero keeps the primary's replicas.
      expect(await workload.promote(canary, (await workload.observe(canary)).targetRevision)).toMatchObject({
        ok: true,
      });
      expect((await readDeployment('podinfo-primary')).spec?.replicas).toBe(3);
      await apps.patchNamespacedDeployment({
        name: 'podinfo-primary',
        namespace: NS,
        body: [{ op: 'replace', path: '/spec/replicas', value: 4 }],
      });
      expect(await workload.scaleTargetUp(canary)).toEqual({ ok: true, value: undefined });
      expect((await readDeployment('podinfo')).spec?.replicas).toBe(4);
      // Already running: scaleTargetUp leaves the target's own count.
      await workload.scaleTarget(canary, 2);
      await workload.scaleTargetUp(canary);
      expect((await readDeployment('podinfo')).spec?.replicas).toBe(2);
    });

    it('updates an existing Service in place without touching its clusterIP', async () => {
      const before = await core.readNamespacedService({ name: 'podinfo', namespace: NS });
      const changed = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, port: 80 } } };
      expect(await workload.bootstrap(changed)).toMatchObject({ ok: true });
      const after = await core.readNamespacedService({ name: 'podinfo', namespace: NS });
      expect(after.spec?.clusterIP).toBe(before.spec?.clusterIP);
      expect(after.metadata?.uid).toBe(before.metadata?.uid);
      expect(after.spec?.ports).toMatchObject([{ name: 'http', port: 80, targetPort: 9898 }]);
    });
  });
});

describe('DeploymentWorkload with the kubelet', () => {
  it('sees the primary’s pods become ready', async () => {
    const cluster = await startSandboxCluster();
    try {
      const core = cluster.kc.makeApiClient(CoreV1Api);
      const apps = cluster.kc.makeApiClient(AppsV1Api);
      await core.createNamespace({ body: { metadata: { name: NS } } });
      await installCrds(cluster.kc);
      const target = podinfoDeployment({ name: 'demo', replicas: 2, image: 'fledge/demo-app:v1' });
      const container = target.spec?.template.spec?.containers[0];
      if (container) container.ports = [{ name: 'http', containerPort: 8080 }];
      await apps.createNamespacedDeployment({ namespace: NS, body: target });
      const canary = await createCanary(cluster.kc.makeApiClient(CustomObjectsApi), 'demo', 'demo');
      const workload = new DeploymentWorkload(cluster.kc);
      expect(await workload.bootstrap(canary)).toMatchObject({ ok: true });
      const seen = await waitFor(
        async () => {
          const o = await workload.observe(canary);
          return o.primary?.readyReplicas === 2 ? o : undefined;
        },
        { timeoutMs: 30_000, what: 'two ready primary pods' },
      );
      expect(seen.primary).toMatchObject({ desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 2 });
    } finally {
      await cluster.stop();
    }
  });
});

describe('DeploymentWorkload and an API server that does not answer', () => {
  it('reports the deadline as a problem instead of hanging', async () => {
    const server = http.createServer(() => undefined); // accepts requests, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: 'c',
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const started = Date.now();
      const r = await new DeploymentWorkload(kc, { timeoutMs: 200 }).bootstrap(podinfoCanary());
      expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
      if (!r.ok) expect(r.message).toContain('no answer within 200 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
