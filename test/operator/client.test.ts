// KubeResource with an informer's copy: reads come from the copy once it has listed (no request), and a write
// guarded by a stale copy's resourceVersion conflicts and is retried from a fresh read of the server.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAgents } from '../../operator/k8s/agent.js';
import type { ObjectCache } from '../../operator/k8s/client.js';
import { KubeResource, resourceAt } from '../../operator/k8s/client.js';
import { startLocalApi } from '../helpers/local-api.js';

type Obj = KubernetesObject & { data?: Record<string, string> };

/** One ConfigMap `ns/cm` with optimistic concurrency, and a log of the requests. */
async function startApi(
  initial: Obj,
): Promise<{ kc: KubeConfig; stored: () => Obj; log: string[]; close(): Promise<void> }> {
  let stored = initial;
  const log: string[] = [];
  const local = await startLocalApi((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      log.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET') return send(200, stored);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj;
      if (body.metadata?.resourceVersion !== stored.metadata?.resourceVersion)
        return send(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' });
      const rv = String(Number(stored.metadata?.resourceVersion ?? '0') + 1);
      stored = { ...body, metadata: { ...body.metadata, resourceVersion: rv } };
      return send(200, stored);
    });
  });
  return { kc: local.kc, stored: () => stored, log, close: local.close };
}

const configMap = (rv: string, value: string): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'ns', resourceVersion: rv },
  data: { value },
});

const configMaps = (kc: KubeConfig, copy: ObjectCache): KubeResource<Obj> =>
  new KubeResource<Obj>(kc, 'ConfigMap', resourceAt('v1', 'configmaps'), 5000, copy);

describe('KubeResource with an informer copy', () => {
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  afterEach(async () => {
    closeAgents();
    await api?.close();
  });

  it('reads from the copy, and retries a write that conflicts from a fresh read', async () => {
    api = await startApi(configMap('2', 'server'));
    // The copy is one version behind the server.
    const copy: ObjectCache = { hasSynced: true, get: () => configMap('1', 'copy') };
    const res = configMaps(api.kc, copy);

    const read = await res.get('ns', 'cm');
    expect(read.ok && read.value?.data?.['value']).toBe('copy');
    expect(api.log).toEqual([]);

    const seen: string[] = [];
    const r = await res.modify('ns', 'cm', (current) => {
      seen.push(current.data?.['value'] ?? '');
      return { ...current, data: { value: `${current.data?.['value'] ?? ''}+changed` } };
    });
    expect(r.ok).toBe(true);
    expect(seen).toEqual(['copy', 'server']);
    expect(api.log).toEqual([
      'PUT /api/v1/namespaces/ns/configmaps/cm',
      'GET /api/v1/namespaces/ns/configmaps/cm',
      'PUT /api/v1/namespaces/ns/configmaps/cm',
    ]);
    expect(api.stored().data?.['value']).toBe('server+changed');
    expect(api.stored().metadata?.resourceVersion).toBe('3');
  });

  it('asks the server while the copy has not listed yet, and names the resource on failures', async () => {
    api = await startApi(configMap('5', 'server'));
    const copy: ObjectCache = { hasSynced: false, get: () => undefined };
    const res = configMaps(api.kc, copy);
    const read = await res.get('ns', 'cm');
    expect(read.ok && read.value?.data?.['value']).toBe('server');
    const stale = await res.replace(configMap('4', 'x'));
    expect(stale).toMatchObject({
      ok: false,
      status: 409,
      reason: 'Conflict',
      message: 'the object has been modified',
    });
  });
});
