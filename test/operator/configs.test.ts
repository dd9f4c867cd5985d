// operator/configs.ts: reference discovery, rewriting and hashing as tables, then DeploymentWorkload with
// tracked ConfigMaps and Secrets on the sandbox API server (copies, rewritten primary, revision, promotion).
import type { V1Deployment, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../crds/schema/flagger.js';
import type { ConfigObject } from '../../operator/configs.js';
import {
  CONFIG_TRACKING_ANNOTATION,
  configHash,
  configRefs,
  isTracked,
  primaryConfig,
  rewriteConfigRefs,
  updatedPrimaryConfig,
} from '../../operator/configs.js';
import { CanaryController } from '../../operator/controller.js';
import { CONFIGS_ANNOTATION, DeploymentWorkload, REVISION_ANNOTATION } from '../../operator/workload.js';
import { testCanary } from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import { createParsedCanary } from '../helpers/parsed-canary.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'configs';

/** A pod spec referencing configs in every way a pod can. */
function podSpec(): V1PodSpec {
  return {
    initContainers: [{ name: 'init', image: 'busybox', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
    containers: [
      {
        name: 'app',
        image: 'nginx',
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'a' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b', optional: true } } },
          { name: 'C', value: 'plain' },
          { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        envFrom: [{ configMapRef: { name: 'envfrom-cm', optional: true } }],
      },
    ],
    volumes: [
      { name: 'v1', configMap: { name: 'vol-cm' } },
      { name: 'v2', secret: { secretName: 'vol-secret', optional: true } },
      {
        name: 'v3',
        projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'env-secret' } }] },
      },
      { name: 'v4', emptyDir: {} },
    ],
  };
}

const configMap = (data: Record<string, string>, annotations?: Record<string, string>): ConfigObject => ({
  kind: 'configmap',
  object: { metadata: { name: 'cm', ...(annotations ? { annotations } : {}) }, data },
});

const secretOfType = (type: string): ConfigObject => ({ kind: 'secret', object: { type } });

describe('config references', () => {
  it('finds every ConfigMap and Secret a pod spec references, once, sorted; optional only if always optional', () => {
    expect(configRefs(podSpec())).toEqual([
      { kind: 'configmap', name: 'env-cm', optional: false },
      { kind: 'configmap', name: 'envfrom-cm', optional: true },
      { kind: 'configmap', name: 'proj-cm', optional: false },
      { kind: 'configmap', name: 'vol-cm', optional: false },
      // Optional in env, required in the projected volume.
      { kind: 'secret', name: 'env-secret', optional: false },
      { kind: 'secret', name: 'init-secret', optional: false },
      { kind: 'secret', name: 'vol-secret', optional: true },
    ]);
    expect(configRefs(undefined)).toEqual([]);
  });

  it('rewrites only the tracked references to their -primary copies and leaves the input alone', () => {
    const spec = podSpec();
    const before = structuredClone(spec);
    const out = rewriteConfigRefs(
      spec,
      new Set(['configmap/env-cm', 'secret/env-secret', 'configmap/proj-cm']),
    );
    expect(spec).toEqual(before);
    const app = out.containers[0];
    expect(app?.env?.[0]?.valueFrom?.configMapKeyRef?.name).toBe('env-cm-primary');
    expect(app?.env?.[1]?.valueFrom?.secretKeyRef?.name).toBe('env-secret-primary');
    expect(app?.env?.[2]).toEqual({ name: 'C', value: 'plain' });
    expect(app?.envFrom?.[0]?.configMapRef?.name).toBe('envfrom-cm');
    expect(out.initContainers?.[0]?.envFrom?.[0]?.secretRef?.name).toBe('init-secret');
    expect(out.volumes?.[0]?.configMap?.name).toBe('vol-cm');
    expect(out.volumes?.[2]?.projected?.sources).toEqual([
      { configMap: { name: 'proj-cm-primary' } },
      { secret: { name: 'env-secret-primary' } },
    ]);
    // Every reference renamed: nothing of the original names is left for tracked configs.
    expect(configRefs(out).map((r) => r.name)).not.toContain('env-cm');
  });

  it('hashes the data only: stable across key order and metadata, different for other content', () => {
    const a = configHash(configMap({ x: '1', y: '2' }));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash(configMap({ y: '2', x: '1' }, { note: 'metadata does not count' }))).toBe(a);
    expect(configHash(configMap({ x: '1', y: '3' }))).not.toBe(a);
    const secret: ConfigObject = { kind: 'secret', object: { data: { x: '1', y: '2' } } };
    expect(configHash(secret)).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['a ConfigMap', configMap({}), true],
    ['an opted-out ConfigMap', configMap({}, { [CONFIG_TRACKING_ANNOTATION]: 'disabled' }), false],
    ['an Opaque Secret', secretOfType('Opaque'), true],
    ['a TLS Secret', secretOfType('kubernetes.io/tls'), true],
    ['registry credentials', secretOfType('kubernetes.io/dockerconfigjson'), false],
  ])('tracks %s: %s', (_what, c, tracked) => {
    expect(isTracked(c)).toBe(tracked);
  });

  it('builds the -primary copy (labels, annotations, type; no immutable) and updates it only on change', () => {
    const canary = { metadata: { namespace: NS } } as Canary;
    const owner = [
      { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'c', uid: 'u', controller: true },
    ];
    const source: ConfigObject = {
      kind: 'secret',
      object: {
        metadata: {
          name: 's',
          labels: { l: '1' },
          annotations: { a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
        },
        type: 'kubernetes.io/basic-auth',
        immutable: true,
        data: { username: 'dQ==' },
      },
    };
    const copy = primaryConfig(canary, source, owner);
    expect(copy.object).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's-primary',
        namespace: NS,
        labels: { l: '1' },
        annotations: { a: '1' },
        ownerReferences: owner,
      },
      type: 'kubernetes.io/basic-auth',
      data: { username: 'dQ==' },
    });
    if (copy.kind !== 'secret') throw new Error('not a Secret');
    const stored = { ...copy.object, metadata: { ...copy.object.metadata, resourceVersion: '5' } };
    expect(updatedPrimaryConfig(stored, copy.object)).toBeNull();
    const changed = { ...copy.object, data: { username: 'dg==' } };
    expect(updatedPrimaryConfig<V1Secret>(stored, changed)).toMatchObject({
      metadata: { resourceVersion: '5' },
      data: { username: 'dg==' },
    });
  });
});

describe('DeploymentWorkload with tracked configs on the sandbox API server', () => {
  let cluster: TestCluster;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let workload: DeploymentWorkload;
  let canary: Canary;

  const target = (name: string, spec: V1PodSpec): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec },
    },
  });
  const readPrimary = (): Promise<V1Deployment> =>
    apps.readNamespacedDeployment({ namespace: NS, name: 'web-primary' });

  beforeAll(async () => {
    cluster = await startTestCluster();
    apps = cluster.kc.makeApiClient(AppsV1Api);
    core = cluster.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await installCrds(cluster.kc);
    workload = new DeploymentWorkload(cluster.kc, { timeoutMs: 5_000 });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: { name: 'web-config', labels: { team: 'a' }, annotations: { note: 'n' } },
        data: { v: '1' },
      },
    });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: { name: 'web-static', annotations: { [CONFIG_TRACKING_ANNOTATION]: 'disabled' } },
        data: { s: 's' },
      },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'web-secret' }, type: 'Opaque', stringData: { token: 't1' } },
    });
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: target('web', {
        containers: [
          {
            name: 'app',
            image: 'nginx',
            ports: [{ name: 'http', containerPort: 80 }],
            env: [{ name: 'V', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'v' } } }],
            envFrom: [
              { secretRef: { name: 'web-secret' } },
              { configMapRef: { name: 'gone', optional: true } },
            ],
          },
        ],
        volumes: [{ name: 'static', configMap: { name: 'web-static' } }],
      }),
    });
    canary = await createParsedCanary(cluster.kc, testCanary(NS, 'web'));
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('bootstrap copies the tracked configs, owned by the Canary, and the primary references the copies', async () => {
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    expect(r.value.created.slice(0, 3)).toEqual([
      'ConfigMap/web-config-primary',
      'Secret/web-secret-primary',
      'Deployment/web-primary',
    ]);
    const copy = await core.readNamespacedConfigMap({ namespace: NS, name: 'web-config-primary' });
    expect(copy.data).toEqual({ v: '1' });
    expect(copy.metadata?.labels).toEqual({ team: 'a' });
    expect(copy.metadata?.annotations).toEqual({ note: 'n' });
    expect(copy.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', uid: canary.metadata.uid });
    const secret = await core.readNamespacedSecret({ namespace: NS, name: 'web-secret-primary' });
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe('t1');
    // Opted out: neither copied nor rewritten; an optional config that does not exist is skipped.
    const names = (await core.listNamespacedConfigMap({ namespace: NS })).items.map((c) => c.metadata?.name);
    expect(names).not.toContain('web-static-primary');
    expect(names).not.toContain('gone-primary');
    const spec = (await readPrimary()).spec?.template.spec;
    expect(spec?.containers[0]?.env?.[0]?.valueFrom?.configMapKeyRef?.name).toBe('web-config-primary');
    expect(spec?.containers[0]?.envFrom?.map((e) => e.secretRef?.name ?? e.configMapRef?.name)).toEqual([
      'web-secret-primary',
      'gone',
    ]);
    expect(spec?.volumes?.[0]?.configMap?.name).toBe('web-static');
  });

  it('observe reports the hashes as status.trackedConfigs, and the revision the primary runs', async () => {
    const seen = await workload.observe(canary);
    expect(seen.problems).toEqual([]);
    expect(Object.keys(seen.trackedConfigs ?? {})).toEqual(['configmap/web-config', 'secret/web-secret']);
    expect(seen.primary?.revision).toBe(seen.targetRevision);
    // Observing again without a change gives the same revision.
    expect((await workload.observe(canary)).targetRevision).toBe(seen.targetRevision);
  });

  it('a config change alone is a new revision; bootstrap keeps the old copy, promote copies and rolls the primary', async () => {
    const before = await workload.observe(canary);
    const templateBefore = (await readPrimary()).spec?.template.metadata?.annotations?.[CONFIGS_ANNOTATION];
    const stored = await core.readNamespacedConfigMap({ namespace: NS, name: 'web-config' });
    await core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'web-config',
      body: { ...stored, data: { v: '2' } },
    });
    const after = await workload.observe(canary);
    expect(after.targetRevision).not.toBe(before.targetRevision);
    expect(after.trackedConfigs?.['configmap/web-config']).not.toBe(
      before.trackedConfigs?.['configmap/web-config'],
    );
    expect(after.trackedConfigs?.['secret/web-secret']).toBe(before.trackedConfigs?.['secret/web-secret']);

    await workload.bootstrap(canary);
    const copy = async () =>
      (await core.readNamespacedConfigMap({ namespace: NS, name: 'web-config-primary' })).data;
    expect(await copy()).toEqual({ v: '1' });

    expect(await workload.promote(canary, after.targetRevision)).toEqual({ ok: true, value: undefined });
    expect(await copy()).toEqual({ v: '2' });
    const primary = await readPrimary();
    expect(primary.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(after.targetRevision);
    expect(primary.spec?.template.metadata?.annotations?.[CONFIGS_ANNOTATION]).not.toBe(templateBefore);
    expect(primary.spec?.template.spec?.containers[0]?.env?.[0]?.valueFrom?.configMapKeyRef?.name).toBe(
      'web-config-primary',
    );
  });

  it('a missing required config is a problem naming it: nothing is created and the target is unusable', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: target('lost', {
        containers: [{ name: 'app', image: 'nginx', envFrom: [{ configMapRef: { name: 'lost-config' } }] }],
      }),
    });
    const lost = await createParsedCanary(cluster.kc, testCanary(NS, 'lost'));
    const r = await workload.bootstrap(lost);
    expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    if (!r.ok) expect(r.message).toContain('ConfigMap "lost-config"');
    const deployments = (await apps.listNamespacedDeployment({ namespace: NS })).items.map(
      (d) => d.metadata?.name,
    );
    expect(deployments).not.toContain('lost-primary');
    const seen = await workload.observe(lost);
    expect(seen.canary).toBeNull();
    expect(seen.problems.map((p) => p.message).join()).toContain('lost-config');
  });
});

describe('CanaryController and config changes', () => {
  let cluster: TestCluster;
  let controller: CanaryController;
  const seen: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

  beforeAll(async () => {
    cluster = await startTestCluster();
    const core = cluster.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await installCrds(cluster.kc);
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'used' }, data: { a: '1' } },
    });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'other' }, data: { a: '1' } },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'cred' }, stringData: { a: '1' } },
    });
    await cluster.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'app', namespace: NS },
        spec: {
          selector: { matchLabels: { app: 'app' } },
          template: {
            metadata: { labels: { app: 'app' } },
            spec: {
              containers: [{ name: 'c', image: 'nginx', envFrom: [{ configMapRef: { name: 'used' } }] }],
              volumes: [{ name: 'v', secret: { secretName: 'cred' } }],
            },
          },
        },
      },
    });
    await createParsedCanary(cluster.kc, testCanary(NS, 'app'));
    // A canary in the same namespace whose target references neither config.
    await cluster.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'bystander', namespace: NS },
        spec: {
          selector: { matchLabels: { app: 'bystander' } },
          template: {
            metadata: { labels: { app: 'bystander' } },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    await createParsedCanary(cluster.kc, testCanary(NS, 'bystander'));
    controller = new CanaryController({ kc: cluster.kc, log });
    await controller.start((ns, name, reason) => {
      seen.push(`${ns}/${name}:${reason}`);
      return Promise.resolve();
    });
    await waitFor(() => seen.length >= 2, { what: 'the first reconcile of both canaries' });
  });

  afterAll(async () => {
    await controller?.stop();
    await cluster?.close();
  });

  it('reconciles the canaries whose target references a changed ConfigMap or Secret, and no others', async () => {
    const core = cluster.kc.makeApiClient(CoreV1Api);
    seen.length = 0;
    const stored = await core.readNamespacedConfigMap({ namespace: NS, name: 'used' });
    await core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'used',
      body: { ...stored, data: { a: '2' } },
    });
    await waitFor(() => seen.length > 0, { what: 'a reconcile for ConfigMap used' });
    // The Secret change is queued after anything the ConfigMap change queued: once it ran, all of that ran.
    const secret = await core.readNamespacedSecret({ namespace: NS, name: 'cred' });
    await core.replaceNamespacedSecret({
      namespace: NS,
      name: 'cred',
      body: { ...secret, stringData: { a: '3' } },
    });
    await waitFor(() => seen.length > 1, { what: 'a reconcile for Secret cred' });
    expect(seen).toEqual([`${NS}/app:event`, `${NS}/app:event`]);
  });
});
