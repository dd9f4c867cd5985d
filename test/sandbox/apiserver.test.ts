// The sandbox API server through the real @kubernetes/client-node: CRUD, informers, conflicts,
// custom resources, subresources, finalizers, garbage collection, patches and selectors.
import {
  AppsV1Api,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'apitest';

interface Widget extends KubernetesObject {
  spec?: { name?: string; size?: string; replicas?: number; bogus?: string };
  status?: { phase?: string };
}

/** The HTTP status of a failed client-node call (ApiException.code), or 0 when it succeeded. */
async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    return typeof e === 'object' && e !== null && 'code' in e ? Number(e.code) : -1;
  }
}

async function errorBody(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const body = (e as { body?: unknown }).body;
    return (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
  }
  throw new Error('call succeeded; expected a failure');
}

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Size', type: 'string', jsonPath: '.spec.size', priority: 1 },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string', pattern: '^[a-z]+$' },
                  // client-node's model names the schema keywords "enum" and "default" `_enum` and `_default`.
                  size: { type: 'string', _enum: ['small', 'large'], _default: 'small' },
                  replicas: { type: 'integer', minimum: 0, maximum: 10 },
                },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

describe('sandbox API server with @kubernetes/client-node', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  beforeAll(async () => {
    cluster = await startTestCluster();
    core = cluster.kc.makeApiClient(CoreV1Api);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    custom = cluster.kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const ext = cluster.kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: widgetCrd });
    await waitFor(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: 'widgets.example.com' });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { what: 'the Widget CRD to be established' },
    );
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('creates, reads, updates, lists and deletes built-in objects', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'crud' }, data: { a: '1' } },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBeTruthy();
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const read = await core.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    expect(read.data).toEqual({ a: '1' });
    read.data = { a: '2' };
    const updated = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: read });
    expect(updated.data).toEqual({ a: '2' });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    expect(list.items.map((i) => i.metadata?.name)).toContain('crud');
    await core.deleteNamespacedConfigMap({ name: 'crud', namespace: NS });
    expect(await codeOf(core.readNamespacedConfigMap({ name: 'crud', namespace: NS }))).toBe(404);
  });

  it('answers 409 Conflict to an update with a stale resourceVersion', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'stale' }, data: { v: '1' } },
    });
    await core.replaceNamespacedConfigMap({
      name: 'stale',
      namespace: NS,
      body: { ...cm, data: { v: '2' } },
    });
    const body = await errorBody(
      core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: { ...cm, data: { v: '3' } } }),
    );
    expect(body.code).toBe(409);
    expect(body.reason).toBe('Conflict');
    expect((await core.readNamespacedConfigMap({ name: 'stale', namespace: NS })).data).toEqual({ v: '2' });
  });

  it('serves custom resources: defaults, pruning, 422 with field paths, status isolation and generation', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: NS,
      plural: 'widgets',
      body: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec: { name: 'one', bogus: 'x' },
        status: { phase: 'Ignored' },
      },
    })) as Widget;
    expect(created.spec).toEqual({ name: 'one', size: 'small' });
    expect(created.status).toBeUndefined();
    expect(created.metadata?.generation).toBe(1);

    const invalid = await errorBody(
      custom.createNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'widgets',
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'bad' },
          spec: { name: 'UPPER', size: 'huge', replicas: 11 },
        },
      }),
    );
    expect(invalid.code).toBe(422);
    const causes = ((invalid.details as { causes: { field: string }[] }).causes ?? [])
      .map((c) => c.field)
      .sort();
    expect(causes).toEqual(['spec.name', 'spec.replicas', 'spec.size']);

    // Main resource: a status change is ignored and does not bump generation; a label change neither.
    const statusOnly = (await custom.patchNamespacedCustomObject(
      {
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'widgets',
        name: 'w1',
        body: { status: { phase: 'Nope' } },
      },
      merge,
    )) as Widget;
    expect(statusOnly.status).toBeUndefined();
    expect(statusOnly.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const labelled = (await custom.patchNamespacedCustomObject(
      {
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'widgets',
        name: 'w1',
        body: { metadata: { labels: { a: 'b' } } },
      },
      merge,
    )) as Widget;
    expect(labelled.metadata?.generation).toBe(1);
    const specChanged = (await custom.patchNamespacedCustomObject(
      {
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'widgets',
        name: 'w1',
        body: { spec: { replicas: 3 } },
      },
      merge,
    )) as Widget;
    expect(specChanged.metadata?.generation).toBe(2);
    // /status: only status changes, generation stays.
    const viaStatus = (await custom.patchNamespacedCustomObjectStatus(
      {
        group: 'example.com',
        version: 'v1',
        namespace: NS,
        plural: 'widgets',
        name: 'w1',
        body: { status: { phase: 'Ready' }, spec: { replicas: 9 } },
      },
      merge,
    )) as Widget;
    expect(viaStatus.status?.phase).toBe('Ready');
    expect(viaStatus.spec?.replicas).toBe(3);
    expect(viaStatus.metadata?.generation).toBe(2);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'fin', finalizers: ['example.com/hold'] } },
    });
    await core.deleteNamespacedConfigMap({ name: 'fin', namespace: NS });
    const terminating = await core.readNamespacedConfigMap({ name: 'fin', namespace: NS });
    expect(terminating.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await core.patchNamespacedConfigMap(
      { name: 'fin', namespace: NS, body: { metadata: { finalizers: null } } },
      merge,
    );
    expect(await codeOf(core.readNamespacedConfigMap({ name: 'fin', namespace: NS }))).toBe(404);
  });

  it('garbage-collects dependents of a deleted owner', async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'owner' } },
    });
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'owner',
      uid: owner.metadata?.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'dependent', ownerReferences: [ref] } },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: NS });
    await waitFor(
      async () => (await codeOf(core.readNamespacedConfigMap({ name: 'dependent', namespace: NS }))) === 404,
      {
        what: 'the dependent to be collected',
      },
    );
  });

  it('applies merge, JSON and strategic merge patches', async () => {
    const dep: V1Deployment = {
      metadata: { name: 'two' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'two' } },
        template: {
          metadata: { labels: { app: 'two' } },
          spec: {
            containers: [
              { name: 'app', image: 'app:1' },
              { name: 'sidecar', image: 'side:1' },
            ],
          },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: NS, body: dep });
    const smp = await apps.patchNamespacedDeployment(
      {
        name: 'two',
        namespace: NS,
        body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'side:2' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app=app:1',
      'sidecar=side:2',
    ]);
    expect(smp.metadata?.generation).toBe(2);
    const json = await apps.patchNamespacedDeployment(
      { name: 'two', namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.spec?.replicas).toBe(3);
    const mergePatched = await apps.patchNamespacedDeployment(
      { name: 'two', namespace: NS, body: { metadata: { labels: { tier: 'web' } } } },
      merge,
    );
    expect(mergePatched.metadata?.labels).toEqual({ tier: 'web' });
    // Merge patch replaces lists whole: only one container is left.
    const replaced = await apps.patchNamespacedDeployment(
      {
        name: 'two',
        namespace: NS,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } },
      },
      merge,
    );
    expect(replaced.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('filters lists and watches by label selectors', async () => {
    const mk = (name: string, labels: Record<string, string>): Promise<V1ConfigMap> =>
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels } } });
    await mk('sel-a', { app: 'a', tier: 'web' });
    await mk('sel-b', { app: 'b', tier: 'web' });
    await mk('sel-c', { app: 'c' });
    const names = async (labelSelector: string): Promise<string[]> =>
      (await core.listNamespacedConfigMap({ namespace: NS, labelSelector })).items
        .map((i) => i.metadata?.name ?? '')
        .filter((n) => n.startsWith('sel-'));
    expect(await names('app=a')).toEqual(['sel-a']);
    expect(await names('app!=a,app')).toEqual(['sel-b', 'sel-c']);
    expect(await names('app in (a,c)')).toEqual(['sel-a', 'sel-c']);
    expect(await names('app notin (a,c),app')).toEqual(['sel-b']);
    expect(await names('tier')).toEqual(['sel-a', 'sel-b']);
    expect(await names('!tier,app')).toEqual(['sel-c']);

    const seen: string[] = [];
    const informer = makeInformer(
      cluster.kc,
      `/api/v1/namespaces/${NS}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app in (a,d)' }),
      'app in (a,d)',
    );
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name ?? ''}`));
    await informer.start();
    await mk('sel-d', { app: 'd' });
    await mk('sel-e', { app: 'e' });
    // Relabelling out of the selector is a DELETED event for this watch.
    await core.patchNamespacedConfigMap(
      { name: 'sel-a', namespace: NS, body: { metadata: { labels: { app: 'z' } } } },
      merge,
    );
    await waitFor(() => seen.includes('delete:sel-a'), { what: 'sel-a to leave the selector' });
    await informer.stop();
    expect(seen).toEqual(['add:sel-a', 'add:sel-d', 'delete:sel-a']);
  });

  it('keeps an informer in sync across dropped watches and a 410 relist', async () => {
    const events: string[] = [];
    const informer = makeInformer(
      cluster.kc,
      `/api/v1/namespaces/${NS}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'inf=yes' }),
      'inf=yes',
    );
    informer.on('add', (o) => events.push(`add:${o.metadata?.name ?? ''}`));
    informer.on('update', (o) => events.push(`update:${o.metadata?.name ?? ''}:${o.data?.v ?? ''}`));
    informer.on('delete', (o) => events.push(`delete:${o.metadata?.name ?? ''}`));
    await informer.start();
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'inf-1', labels: { inf: 'yes' } }, data: { v: '1' } },
    });
    await waitFor(() => events.includes('add:inf-1'), { what: 'the add event' });

    // A dropped watch resumes from the last resourceVersion: no event is lost or repeated.
    expect(cluster.server.dropWatches()).toBeGreaterThan(0);
    await core.patchNamespacedConfigMap({ name: 'inf-1', namespace: NS, body: { data: { v: '2' } } }, merge);
    await waitFor(() => events.includes('update:inf-1:2'), { what: 'the update after a dropped watch' });

    // After compaction the informer's resourceVersion is too old: it gets 410 and relists.
    cluster.server.compact();
    cluster.server.dropWatches();
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'inf-2', labels: { inf: 'yes' } }, data: { v: '1' } },
    });
    await core.deleteNamespacedConfigMap({ name: 'inf-1', namespace: NS });
    await waitFor(() => events.includes('add:inf-2') && events.includes('delete:inf-1'), {
      what: 'the relist after 410',
    });
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['inf-2']);
    await informer.stop();
    expect(events.filter((e) => e === 'add:inf-1')).toHaveLength(1);
  });

  it('answers bad input with a Status, never a crash or a half-written object', async () => {
    const raw = async (
      method: string,
      path: string,
      body: string,
      contentType = 'application/json',
    ): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${cluster.server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.server.token ?? ''}`,
          'content-type': contentType,
          accept: 'application/json',
        },
        ...(method === 'GET' ? {} : { body }),
      });
      const text = await res.text();
      return {
        status: res.status,
        json: (res.headers.get('content-type') ?? '').includes('json')
          ? (JSON.parse(text) as Record<string, unknown>)
          : { text },
      };
    };
    const cms = `/api/v1/namespaces/${NS}/configmaps`;
    expect(
      (await raw('POST', cms, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"')).json.reason,
    ).toBe('BadRequest');
    expect((await raw('POST', cms, 'name: x', 'text/plain')).status).toBe(415);
    expect((await raw('GET', `/api/v1/namespaces/${NS}/gizmos`, '')).status).toBe(404);
    expect(
      (await raw('POST', '/api/v1/namespaces/nowhere/configmaps', '{"metadata":{"name":"x"}}')).json.message,
    ).toBe('namespaces "nowhere" not found');
    const big = JSON.stringify({ metadata: { name: 'big' }, data: { k: 'x'.repeat(4 * 1024 * 1024) } });
    expect((await raw('POST', cms, big)).status).toBe(413);
    expect((await raw('GET', `${cms}?labelSelector=${encodeURIComponent('app in (a')}`, '')).json.code).toBe(
      400,
    );
    expect(await codeOf(core.readNamespacedConfigMap({ name: 'x', namespace: NS }))).toBe(404);
    expect(await codeOf(core.readNamespacedConfigMap({ name: 'big', namespace: NS }))).toBe(404);
  });
});
