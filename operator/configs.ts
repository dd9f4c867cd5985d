// Tracked ConfigMaps and Secrets (SPEC §3.1): the configs a target's pod template references, their content
// hashes (status.trackedConfigs, part of the revision), `-primary` copies and the primary's rewritten references.
import { createHash } from 'node:crypto';
import type {
  KubeConfig,
  V1ConfigMap,
  V1Container,
  V1ObjectMeta,
  V1PodSpec,
  V1Secret,
} from '@kubernetes/client-node';
import type { Canary } from '../crds/schema/flagger.js';
import type { KubeFailure, KubeResult, Outcome } from './k8s/client.js';
import { KubeResource, resourceAt, canonicalJson, failureProblem } from './k8s/client.js';

/** Per-object opt-out (Flagger's): such a config is neither copied nor rewritten nor hashed. */
export const CONFIG_TRACKING_ANNOTATION = 'flagger.app/config-tracking';

/** Secret types Flagger tracks; the others (registry credentials, service-account tokens) are left alone. */
export const TRACKED_SECRET_TYPES: readonly string[] = [
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
];

/** Annotations never copied to a `-primary` copy. */
const UNCOPIED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

export type ConfigKind = 'configmap' | 'secret';

/** One referenced config. `optional` only when every reference to it is optional. */
export interface ConfigRef {
  kind: ConfigKind;
  name: string;
  optional: boolean;
}

/** `configmap/<name>` or `secret/<name>`: the key in status.trackedConfigs (Flagger's format). */
export const configKey = (kind: ConfigKind, name: string): string => `${kind}/${name}`;

export const primaryConfigName = (name: string): string => `${name}-primary`;

/** Every ConfigMap and Secret a pod spec references (volumes, projected sources, env, envFrom), sorted by key. */
export function configRefs(spec: V1PodSpec | undefined): ConfigRef[] {
  const found = new Map<string, ConfigRef>();
  const add = (kind: ConfigKind, name: string | undefined, optional: boolean | undefined): void => {
    if (name === undefined || name === '') return;
    const key = configKey(kind, name);
    const prior = found.get(key);
    found.set(key, { kind, name, optional: (prior?.optional ?? true) && optional === true });
  };
  for (const v of spec?.volumes ?? []) {
    add('configmap', v.configMap?.name, v.configMap?.optional);
    add('secret', v.secret?.secretName, v.secret?.optional);
    for (const s of v.projected?.sources ?? []) {
      add('configmap', s.configMap?.name, s.configMap?.optional);
      add('secret', s.secret?.name, s.secret?.optional);
    }
  }
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? []) {
      add('configmap', e.valueFrom?.configMapKeyRef?.name, e.valueFrom?.configMapKeyRef?.optional);
      add('secret', e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.optional);
    }
    for (const e of c.envFrom ?? []) {
      add('configmap', e.configMapRef?.name, e.configMapRef?.optional);
      add('secret', e.secretRef?.name, e.secretRef?.optional);
    }
  }
  return [...found.values()].sort((a, b) =>
    configKey(a.kind, a.name).localeCompare(configKey(b.kind, b.name)),
  );
}

function containersOf(spec: V1PodSpec | undefined): V1Container[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/**
 * `spec` with every reference to a tracked config (keys as configKey) renamed to its `-primary` copy; other
 * references are kept. The input is not modified.
 */
export function rewriteConfigRefs(spec: V1PodSpec, tracked: ReadonlySet<string>): V1PodSpec {
  const out = structuredClone(spec);
  const rename = (kind: ConfigKind, name: string | undefined): string | undefined =>
    name !== undefined && tracked.has(configKey(kind, name)) ? primaryConfigName(name) : name;
  for (const v of out.volumes ?? []) {
    if (v.configMap) v.configMap.name = rename('configmap', v.configMap.name);
    if (v.secret) v.secret.secretName = rename('secret', v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) s.configMap.name = rename('configmap', s.configMap.name);
      if (s.secret) s.secret.name = rename('secret', s.secret.name);
    }
  }
  for (const c of [...(out.initContainers ?? []), ...out.containers]) {
    for (const e of c.env ?? []) {
      const cm = e.valueFrom?.configMapKeyRef;
      if (cm) cm.name = rename('configmap', cm.name);
      const s = e.valueFrom?.secretKeyRef;
      if (s) s.name = rename('secret', s.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) e.configMapRef.name = rename('configmap', e.configMapRef.name);
      if (e.secretRef) e.secretRef.name = rename('secret', e.secretRef.name);
    }
  }
  return out;
}

export type ConfigObject = { kind: 'configmap'; object: V1ConfigMap } | { kind: 'secret'; object: V1Secret };

/** Whether fledge tracks this config: not opted out, and (Secrets) of a tracked type. */
export function isTracked(c: ConfigObject): boolean {
  if (c.object.metadata?.annotations?.[CONFIG_TRACKING_ANNOTATION] === 'disabled') return false;
  return c.kind === 'configmap' || TRACKED_SECRET_TYPES.includes(c.object.type ?? 'Opaque');
}

/** Content hash (16 hex digits) of a config's data; metadata does not count. */
export function configHash(c: ConfigObject): string {
  const content =
    c.kind === 'configmap'
      ? { data: c.object.data, binaryData: c.object.binaryData }
      : { data: c.object.data };
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 16);
}

/** The configs of a target that fledge tracks, with their hashes by key. */
export interface TrackedConfigs {
  configs: ConfigObject[];
  hashes: Record<string, string>;
}

export const NO_CONFIGS: TrackedConfigs = { configs: [], hashes: {} };

export function trackedKeys(t: TrackedConfigs): Set<string> {
  return new Set(Object.keys(t.hashes));
}

/** One hash of every tracked config's hash ('' when none): a pod template annotation that rolls the primary. */
export function configsDigest(hashes: Record<string, string>): string {
  if (Object.keys(hashes).length === 0) return '';
  return createHash('sha256').update(canonicalJson(hashes)).digest('hex').slice(0, 16);
}

function copiedMeta(canary: Canary, meta: V1ObjectMeta | undefined, owner: V1ObjectMeta['ownerReferences']) {
  const annotations = Object.fromEntries(
    Object.entries(meta?.annotations ?? {}).filter(([k]) => !UNCOPIED_ANNOTATIONS.includes(k)),
  );
  return {
    name: primaryConfigName(meta?.name ?? ''),
    namespace: canary.metadata.namespace,
    ...(meta?.labels ? { labels: { ...meta.labels } } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: owner,
  };
}

/**
 * The `-primary` copy of a tracked config: its data (and a Secret's type), labels and annotations, owned as
 * `owner` says (the Canary). `immutable` is not copied, so promotions can update the copy.
 */
export function primaryConfig(
  canary: Canary,
  c: ConfigObject,
  owner: V1ObjectMeta['ownerReferences'],
): ConfigObject {
  const metadata = copiedMeta(canary, c.object.metadata, owner);
  if (c.kind === 'configmap') {
    const { data, binaryData } = c.object;
    return {
      kind: 'configmap',
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata,
        ...(data ? { data: { ...data } } : {}),
        ...(binaryData ? { binaryData: { ...binaryData } } : {}),
      },
    };
  }
  const { data, type } = c.object;
  return {
    kind: 'secret',
    object: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata,
      ...(type ? { type } : {}),
      ...(data ? { data: { ...data } } : {}),
    },
  };
}

/** The existing copy brought up to `desired` (data, labels, annotations, owners); null when they match. */
export function updatedPrimaryConfig<T extends V1ConfigMap | V1Secret>(existing: T, desired: T): T | null {
  const view = (o: V1ConfigMap | V1Secret) => ({
    data: o.data,
    binaryData: 'binaryData' in o ? o.binaryData : undefined,
    labels: o.metadata?.labels,
    annotations: o.metadata?.annotations,
    owners: o.metadata?.ownerReferences?.map((r) => r.uid),
  });
  if (canonicalJson(view(existing)) === canonicalJson(view(desired))) return null;
  const merged = { ...existing, ...desired };
  return { ...merged, metadata: { ...existing.metadata, ...desired.metadata } };
}

export function configMaps(kc: KubeConfig, timeoutMs?: number): KubeResource<V1ConfigMap> {
  return new KubeResource<V1ConfigMap>(kc, 'ConfigMap', resourceAt('v1', 'configmaps'), timeoutMs);
}

export function secrets(kc: KubeConfig, timeoutMs?: number): KubeResource<V1Secret> {
  return new KubeResource<V1Secret>(kc, 'Secret', resourceAt('v1', 'secrets'), timeoutMs);
}

const TARGET_FIELD = 'spec.targetRef.name';

/** A failed or empty (404) read, retyped for any value. */
const nullOr = (r: KubeFailure | { ok: true; value: unknown }): KubeResult<null> =>
  r.ok ? { ok: true, value: null } : r;
const KIND_NAMES: Record<ConfigKind, string> = { configmap: 'ConfigMap', secret: 'Secret' };

/** Reads the configs a target references and keeps their `-primary` copies; every call has a deadline. */
export class ConfigTracker {
  private readonly configMaps: KubeResource<V1ConfigMap>;
  private readonly secrets: KubeResource<V1Secret>;

  constructor(kc: KubeConfig, timeoutMs?: number) {
    this.configMaps = configMaps(kc, timeoutMs);
    this.secrets = secrets(kc, timeoutMs);
  }

  /**
   * The tracked configs of a pod spec. A missing optional config is skipped; a missing required one (the
   * target's pods could not start either) or an API failure is a problem on spec.targetRef.name.
   */
  async read(
    namespace: string,
    spec: V1PodSpec | undefined,
    owner: string,
  ): Promise<Outcome<TrackedConfigs>> {
    const configs: ConfigObject[] = [];
    const hashes: Record<string, string> = {};
    for (const ref of configRefs(spec)) {
      const got = await this.get(namespace, ref);
      const what = `${KIND_NAMES[ref.kind]} ${JSON.stringify(ref.name)}`;
      if (!got.ok) return failureProblem(got, TARGET_FIELD, `reading ${what}`);
      if (got.value === null) {
        if (ref.optional) continue;
        return {
          ok: false,
          field: TARGET_FIELD,
          message: `${what} referenced by the pod template of ${owner} not found in namespace ${JSON.stringify(namespace)}`,
        };
      }
      const c = got.value;
      if (!isTracked(c)) continue;
      configs.push(c);
      hashes[configKey(ref.kind, ref.name)] = configHash(c);
    }
    return { ok: true, value: { configs, hashes } };
  }

  private async get(namespace: string, ref: ConfigRef): Promise<KubeResult<ConfigObject | null>> {
    if (ref.kind === 'configmap') {
      const r = await this.configMaps.get(namespace, ref.name);
      return r.ok && r.value ? { ok: true, value: { kind: 'configmap', object: r.value } } : nullOr(r);
    }
    const r = await this.secrets.get(namespace, ref.name);
    return r.ok && r.value ? { ok: true, value: { kind: 'secret', object: r.value } } : nullOr(r);
  }

  /**
   * Writes the `-primary` copies: `create` only creates missing ones (bootstrap: an existing copy belongs to
   * the promoted revision), `sync` also updates existing ones (promotion). Returns the names it created.
   */
  async copyToPrimary(
    canary: Canary,
    tracked: TrackedConfigs,
    owner: V1ObjectMeta['ownerReferences'],
    mode: 'create' | 'sync',
  ): Promise<Outcome<string[]>> {
    const created: string[] = [];
    for (const c of tracked.configs) {
      const desired = primaryConfig(canary, c, owner);
      const name = desired.object.metadata?.name ?? '';
      const what = `${KIND_NAMES[c.kind]} ${name}`;
      const written =
        desired.kind === 'configmap'
          ? await this.write(this.configMaps, desired.object, mode)
          : await this.write(this.secrets, desired.object, mode);
      if (!written.ok) return failureProblem(written, TARGET_FIELD, `writing ${what}`);
      if (written.value) created.push(`${KIND_NAMES[c.kind]}/${name}`);
    }
    return { ok: true, value: created };
  }

  private async write<T extends V1ConfigMap | V1Secret>(
    resource: KubeResource<T>,
    desired: T,
    mode: 'create' | 'sync',
  ) {
    if (mode === 'create') {
      const r = await resource.createIfMissing(desired);
      return r.ok ? { ok: true as const, value: r.value.created } : r;
    }
    const r = await resource.ensure(desired, (current) => updatedPrimaryConfig(current, desired));
    return r.ok ? { ok: true as const, value: r.value.created } : r;
  }
}
