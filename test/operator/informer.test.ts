// The wrapped informer against a small HTTP API server whose list answers only when the test says so: a
// stop() that lands while the list is pending leaves no watch open (an open watch keeps a process alive).
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer } from '../../operator/k8s/informer.js';
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

describe('Informer', () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
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
