// In-process controllers every cluster runs: CRD establishment, namespace lifecycle (default
// ServiceAccount, kube-root-ca.crt, deletion of contents), and the garbage collector
// (ownerReferences, foreground and orphan deletion). Workload controllers live in controllers/.
import type { Api } from './api.js';
import { startWorkloadControllers } from './controllers/workloads.js';
import { crdEstablish } from './crd.js';
import { metaOf, newUid, timestamp } from './meta.js';
import { storageKey } from './registry.js';
import type { JsonObject, ResourceType } from './types.js';
import { clone, isObject, str } from './types.js';

const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** A self-signed CA certificate body published as kube-root-ca.crt (the sandbox serves plain HTTP). */
const SANDBOX_CA =
  '-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUZmxlZGdlLXNhbmRib3gtY2EwCgYIKoZIzj0EAwIwFjEU\nMBIGA1UEAwwLZmxlZGdlLXNhbmRib3gwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAx\nMDAwMDAwWjAWMRQwEgYDVQQDDAtmbGVkZ2Utc2FuZGJveDAKBggqhkjOPQQDAgNI\nADBFAiEA\n-----END CERTIFICATE-----\n';

interface Work {
  key: string;
  run: () => void;
}

/** A de-duplicating queue that runs work after the current write returns. */
class Queue {
  private readonly pending = new Map<string, Work>();
  private scheduled = false;
  private stopped = false;

  add(key: string, run: () => void): void {
    if (this.stopped) return;
    this.pending.set(key, { key, run });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const w of batch) {
      if (this.stopped) return;
      try {
        w.run();
      } catch {
        // A failing controller step must not take the server down; the next write retries it.
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }
}

const isType = (t: ResourceType, group: string, resource: string): boolean =>
  t.group === group && t.resource === resource;

export function startControllers(api: Api): () => void {
  const queue = new Queue();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const h = setTimeout(() => {
      timers.delete(h);
      fn();
    }, ms);
    timers.add(h);
  };
  const crdType = api.registry.lookup(
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
  ) as ResourceType;
  const nsType = api.registry.lookup('', 'v1', 'namespaces') as ResourceType;
  const saType = api.registry.lookup('', 'v1', 'serviceaccounts') as ResourceType;
  const cmType = api.registry.lookup('', 'v1', 'configmaps') as ResourceType;

  // ---------------------------------------------------------------- CRDs
  const establish = (name: string): void => {
    const crd = api.store.get(storageKey(crdType), undefined, name);
    if (!crd || (isObject(crd.metadata) && crd.metadata.deletionTimestamp)) return;
    const next = clone(crd);
    crdEstablish(next, timestamp(api.now()));
    api.registry.registerCrd(next);
    api.putDirect(crdType, next);
  };
  const removeCrd = (crd: JsonObject): void => {
    const name = str((crd.metadata as JsonObject).name);
    const types = api.registry.unregisterCrd(name);
    for (const t of types.slice(0, 1)) api.store.dropCollection(storageKey(t));
  };

  // ---------------------------------------------------------------- namespaces
  const seedNamespace = (ns: string): void => {
    if (!api.store.get('/serviceaccounts', ns, 'default')) {
      api.putDirect(saType, {
        kind: 'ServiceAccount',
        apiVersion: 'v1',
        metadata: { name: 'default', namespace: ns, uid: newUid(), creationTimestamp: timestamp(api.now()) },
      });
    }
    if (!api.store.get('/configmaps', ns, 'kube-root-ca.crt')) {
      api.putDirect(cmType, {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: {
          name: 'kube-root-ca.crt',
          namespace: ns,
          uid: newUid(),
          creationTimestamp: timestamp(api.now()),
          annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION },
        },
        data: { 'ca.crt': SANDBOX_CA },
      });
    }
  };

  /** Deletes everything in a terminating namespace; finishes once nothing is left. */
  const drainNamespace = (ns: string): void => {
    const nsObj = api.store.get('/namespaces', undefined, ns);
    if (!nsObj || !isObject(nsObj.metadata) || !nsObj.metadata.deletionTimestamp) return;
    let remaining = 0;
    const seen = new Set<string>();
    for (const t of api.registry.all()) {
      if (!t.namespaced) continue;
      const key = storageKey(t);
      if (seen.has(key)) continue;
      seen.add(key);
      for (const obj of api.store.list(key, ns)) {
        remaining++;
        const meta = obj.metadata as JsonObject;
        if (!meta.deletionTimestamp) api.delete(t, ns, str(meta.name), { gracePeriodSeconds: 0 });
        else if (t.group === '' && t.resource === 'pods')
          api.delete(t, ns, str(meta.name), { gracePeriodSeconds: 0 });
      }
    }
    if (remaining > 0) {
      later(50, () => queue.add(`ns/${ns}`, () => drainNamespace(ns)));
      return;
    }
    const cur = api.store.get('/namespaces', undefined, ns);
    if (!cur) return;
    const next = clone(cur);
    if (isObject(next.spec)) next.spec.finalizers = [];
    api.putDirect(nsType, next);
    api.finalizeIfReady(nsType, next);
  };

  // ---------------------------------------------------------------- garbage collector
  const ownerIndex = new Map<string, Set<string>>();
  const ownersOfDep = new Map<string, string[]>();
  const refKey = (t: ResourceType, obj: JsonObject): string => {
    const m = obj.metadata as JsonObject;
    return `${storageKey(t)}|${str(m.namespace ?? '')}|${str(m.name)}`;
  };
  const typeByStorage = new Map<string, ResourceType>();
  const indexOwners = (t: ResourceType, obj: JsonObject, removed: boolean): void => {
    const m = obj.metadata as JsonObject;
    const k = refKey(t, obj);
    typeByStorage.set(storageKey(t), t);
    for (const uid of ownersOfDep.get(k) ?? []) {
      const set = ownerIndex.get(uid);
      set?.delete(k);
      if (set && set.size === 0) ownerIndex.delete(uid);
    }
    ownersOfDep.delete(k);
    const refs = removed ? [] : ((m.ownerReferences as JsonObject[] | undefined) ?? []);
    if (refs.length === 0) return;
    const uids = refs.map((ref) => str(ref.uid));
    ownersOfDep.set(k, uids);
    for (const uid of uids) {
      let set = ownerIndex.get(uid);
      if (!set) ownerIndex.set(uid, (set = new Set()));
      set.add(k);
    }
  };
  const dependentsOf = (uid: string): { t: ResourceType; obj: JsonObject }[] => {
    const out: { t: ResourceType; obj: JsonObject }[] = [];
    for (const k of ownerIndex.get(uid) ?? []) {
      const [sk, ns, name] = k.split('|') as [string, string, string];
      const t = typeByStorage.get(sk);
      const obj = t ? api.store.get(sk, ns || undefined, name) : undefined;
      if (t && obj) out.push({ t, obj });
    }
    return out;
  };
  /** Whether an owner reference still points at a live object. */
  const ownerAlive = (dep: JsonObject, ref: JsonObject): boolean => {
    const apiVersion = str(ref.apiVersion ?? '');
    const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
    const t = api.registry.byGroupKind(group, str(ref.kind));
    if (!t) return false;
    const ns = t.namespaced ? ((dep.metadata as JsonObject).namespace as string | undefined) : undefined;
    const owner = api.store.get(storageKey(t), ns, str(ref.name));
    return owner !== undefined && (owner.metadata as JsonObject).uid === ref.uid;
  };
  const collect = (t: ResourceType, dep: JsonObject): void => {
    const m = dep.metadata as JsonObject;
    const refs = (m.ownerReferences as JsonObject[] | undefined) ?? [];
    if (refs.length === 0) return;
    const alive = refs.filter((r) => ownerAlive(dep, r));
    if (alive.length === refs.length) return;
    if (alive.length === 0) {
      if (!m.deletionTimestamp)
        api.delete(t, m.namespace as string | undefined, str(m.name), { propagationPolicy: 'Background' });
      return;
    }
    const next = clone(dep);
    metaOf(next).ownerReferences = alive;
    api.putDirect(t, next);
  };
  const processDeleting = (t: ResourceType, key: { ns?: string; name: string }): void => {
    const obj = api.store.get(storageKey(t), key.ns, key.name);
    if (!obj) return;
    const m = obj.metadata as JsonObject;
    if (!m.deletionTimestamp) return;
    const fins = (m.finalizers as string[] | undefined) ?? [];
    const uid = str(m.uid);
    if (fins.includes('orphan')) {
      for (const d of dependentsOf(uid)) {
        const next = clone(d.obj);
        const refs = ((next.metadata as JsonObject).ownerReferences as JsonObject[]).filter(
          (r) => r.uid !== uid,
        );
        if (refs.length > 0) metaOf(next).ownerReferences = refs;
        else delete metaOf(next).ownerReferences;
        api.putDirect(d.t, next);
      }
      const cur = api.store.get(storageKey(t), key.ns, key.name);
      if (cur) api.removeFinalizer(t, cur, 'orphan');
      return;
    }
    if (fins.includes('foregroundDeletion')) {
      const deps = dependentsOf(uid);
      for (const d of deps) {
        const dm = d.obj.metadata as JsonObject;
        if (!dm.deletionTimestamp)
          api.delete(d.t, dm.namespace as string | undefined, str(dm.name), {
            propagationPolicy: 'Foreground',
          });
      }
      const blocking = dependentsOf(uid).filter((d) =>
        ((d.obj.metadata as JsonObject).ownerReferences as JsonObject[]).some(
          (r) => r.uid === uid && r.blockOwnerDeletion === true,
        ),
      );
      if (blocking.length === 0) {
        const cur = api.store.get(storageKey(t), key.ns, key.name);
        if (cur) api.removeFinalizer(t, cur, 'foregroundDeletion');
      } else {
        later(20, () => queue.add(`fg/${uid}`, () => processDeleting(t, key)));
      }
    }
  };

  api.onWrite((t, obj, type) => {
    const m = obj.metadata as JsonObject;
    const name = str(m.name);
    const ns = m.namespace as string | undefined;
    indexOwners(t, obj, type === 'DELETED');
    if (isType(t, 'apiextensions.k8s.io', 'customresourcedefinitions')) {
      if (type === 'ADDED') queue.add(`crd/${name}`, () => establish(name));
      if (type === 'DELETED') removeCrd(obj);
    }
    if (isType(t, '', 'namespaces')) {
      if (type === 'ADDED') queue.add(`nsseed/${name}`, () => seedNamespace(name));
      if (type !== 'DELETED' && m.deletionTimestamp) queue.add(`ns/${name}`, () => drainNamespace(name));
    }
    if (type === 'DELETED') {
      const uid = str(m.uid);
      for (const d of dependentsOf(uid)) queue.add(`gc/${refKey(d.t, d.obj)}`, () => collect(d.t, d.obj));
      if (ns && t.namespaced) queue.add(`ns/${ns}`, () => drainNamespace(ns));
    } else {
      if (m.deletionTimestamp) queue.add(`del/${refKey(t, obj)}`, () => processDeleting(t, { ns, name }));
      if (type === 'ADDED' && ((m.ownerReferences as JsonObject[] | undefined) ?? []).length > 0) {
        queue.add(`gc/${refKey(t, obj)}`, () => {
          const cur = api.store.get(storageKey(t), ns, name);
          if (cur) collect(t, cur);
        });
      }
    }
  });
  const stopWorkloads = startWorkloadControllers(api);
  return () => {
    queue.stop();
    for (const h of timers) clearTimeout(h);
    stopWorkloads();
  };
}
