// The wrapped informer against small HTTP API servers: one whose list answers only when the test says so (a
// stop() that lands while the list is pending leaves no watch open: an open watch keeps a process alive), and
// one that sends whole Pods, so the cache is seen to keep only what its transform keeps.
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { identityAndLabels, Informer } from '../../operator/k8s/informer.js';
import type { LocalApi } from '../helpers/local-api.js';
import { startLocalApi } from '../helpers/local-api.js';
import { waitFor } from '../helpers/wait-for.js';

interface FakeApi {
  kc: KubeConfig;
  lists: number;
  /** Watch requests whose connection is still open. */
  openWatches: number;
  watches: number;
  /** Answers the pending list requests with an empty list. */
  releaseLists(): void;
  close(): Promise<void>;
}

async function startFakeApi(): Promise<FakeApi> {
  const pending: http.ServerResponse[] = [];
  const api = {
    lists: 0,
    openWatches: 0,
    watches: 0,
    releaseLists: (): void => {
      for (const res of pending.splice(0)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'ConfigMapList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '7' },
            items: [],
          }),
        );
      }
    },
  };
  const local = await startLocalApi((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      api.watches++;
      api.openWatches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      res.on('close', () => api.openWatches--);
      return;
    }
    api.lists++;
    pending.push(res);
  });
  return Object.assign(api, { kc: local.kc, close: local.close });
}

/** A whole Pod as an API server sends it: managedFields, spec and status around the labels. */
const fullPod = (
  name: string,
  resourceVersion: string,
  version: string,
): KubernetesObject & { spec: object; status: object } => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    resourceVersion,
    labels: { app: 'web', version },
    annotations: { note: 'kept by the default transform' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1' }],
  },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'web:1' }] },
  status: { phase: 'Running', podIP: '10.1.0.1' },
});

/** Lists one Pod (web-1) and, on the watch, sends web-2 added and web-1 modified. */
async function startPodApi(): Promise<LocalApi> {
  return startLocalApi((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') {
      res.end(
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '10' },
          items: [fullPod('web-1', '10', 'v1')],
        }),
      );
      return;
    }
    res.write(`${JSON.stringify({ type: 'ADDED', object: fullPod('web-2', '11', 'v1') })}\n`);
    res.write(`${JSON.stringify({ type: 'MODIFIED', object: fullPod('web-1', '12', 'v2') })}\n`);
  });
}

describe('Informer', () => {
  let api: FakeApi | undefined;
  let podApi: LocalApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
    await podApi?.close();
    podApi = undefined;
  });

  it('keeps listed and watched objects without their managedFields by default, the rest whole', async () => {
    podApi = await startPodApi();
    const inf = new Informer<KubernetesObject & { spec?: unknown; status?: unknown }>(podApi.kc, {
      path: '/api/v1/pods',
    });
    await inf.start();
    await inf.synced;
    await waitFor(() => inf.get('shop', 'web-1')?.metadata?.labels?.['version'] === 'v2', {
      what: 'the watched update of web-1',
    });
    await waitFor(() => inf.get('shop', 'web-2') !== undefined, { what: 'the watched web-2' });
    await inf.stop();
    for (const name of ['web-1', 'web-2']) {
      const pod = inf.get('shop', name);
      expect(pod?.metadata?.managedFields).toBeUndefined();
      expect(pod?.metadata?.annotations).toEqual({ note: 'kept by the default transform' });
      expect(pod?.spec).toEqual({ nodeName: 'node-1', containers: [{ name: 'app', image: 'web:1' }] });
      expect(pod?.status).toEqual({ phase: 'Running', podIP: '10.1.0.1' });
    }
  });

  it('keeps only identity and labels with identityAndLabels, from the list and from the watch', async () => {
    podApi = await startPodApi();
    const inf = new Informer(podApi.kc, { path: '/api/v1/pods' }, { transform: identityAndLabels });
    const events: string[] = [];
    inf.on((event, obj) => events.push(`${event} ${obj.metadata?.name ?? ''}`));
    await inf.start();
    await inf.synced;
    await waitFor(() => events.length === 3, { what: 'the list and both watch events' });
    await inf.stop();
    // A MODIFIED with a new resourceVersion is still an update once transformed.
    expect(events).toEqual(['add web-1', 'add web-2', 'update web-1']);
    expect(inf.get('shop', 'web-1')).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-1',
        namespace: 'shop',
        uid: 'uid-web-1',
        resourceVersion: '12',
        labels: { app: 'web', version: 'v2' },
      },
    });
    expect(Object.keys(inf.get('shop', 'web-2') ?? {})).toEqual(['apiVersion', 'kind', 'metadata']);
  });

  it('lists, then watches, and a stop closes the watch', async () => {
    api = await startFakeApi();
    const inf = new Informer(api.kc, { path: '/api/v1/configmaps' });
    const started = inf.start();
    await waitFor(() => api?.lists === 1, { what: 'the list request' });
    api.releaseLists();
    await started;
    await inf.synced;
    await waitFor(() => api?.openWatches === 1, { what: 'the watch request' });
    await inf.stop();
    await waitFor(() => api?.openWatches === 0, { what: 'the watch to be closed' });
  });

  it('leaves no watch open when stopped while its list is still pending', async () => {
    api = await startFakeApi();
    const inf = new Informer(api.kc, { path: '/api/v1/configmaps' });
    const started = inf.start();
    await waitFor(() => api?.lists === 1, { what: 'the list request' });
    const stopped = inf.stop();
    api.releaseLists();
    await Promise.all([started, stopped]);
    // The inner informer went on to open its watch after the list; it is closed, not left open.
    await waitFor(() => api?.watches === 1 && api.openWatches === 0, {
      what: 'the watch opened after stop() to be closed',
      timeoutMs: 5000,
    });
    expect(inf.hasSynced).toBe(false);
  });
});
