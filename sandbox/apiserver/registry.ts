// The served resource types: the built-ins (from their discovery entries) plus one entry per
// served version of every established CustomResourceDefinition.
import { builtinDiscovery } from './builtins/discovery-data.js';
import { coreEventFieldSelectorLabels, eventsV1FieldSelectorLabels } from './builtins/events.js';
import type { JsonObject, ResourceType } from './types.js';
import { isObject } from './types.js';

/** Field selectors each built-in accepts beyond metadata.name and metadata.namespace. */
const extraFieldSelectors: Record<string, string[]> = {
  '/events': [...coreEventFieldSelectorLabels],
  'events.k8s.io/events': Object.keys(eventsV1FieldSelectorLabels).filter((l) => !l.startsWith('metadata.')),
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
  '/nodes': ['spec.unschedulable'],
  'apps/replicasets': ['status.replicas'],
};

/** Storage key of a type: all versions (and the two Event APIs) share one collection. */
export function storageKey(t: Pick<ResourceType, 'group' | 'resource'>): string {
  if (t.group === 'events.k8s.io' && t.resource === 'events') return '/events';
  return `${t.group}/${t.resource}`;
}

export const gvString = (group: string, version: string): string => (group ? `${group}/${version}` : version);

export class Registry {
  private readonly types = new Map<string, ResourceType>();
  private readonly crdTypes = new Map<string, ResourceType[]>();
  /** CRD-defined schema per "group/version/resource". */
  private readonly crdVersions = new Map<string, JsonObject>();

  constructor() {
    for (const [gv, entries] of Object.entries(builtinDiscovery)) {
      const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
      const subs = new Map<string, string[]>();
      for (const e of entries) {
        const name = e.name as string;
        if (name.includes('/')) {
          const [res, sub] = name.split('/') as [string, string];
          subs.set(res, [...(subs.get(res) ?? []), sub]);
        }
      }
      for (const e of entries) {
        const name = e.name as string;
        if (name.includes('/')) continue;
        const kind = e.kind as string;
        const has = subs.get(name) ?? [];
        const t: ResourceType = {
          group,
          version,
          resource: name,
          singular: kind.toLowerCase(),
          kind,
          listKind: `${kind}List`,
          namespaced: e.namespaced === true,
          verbs: (e.verbs as string[]) ?? [],
          shortNames: (e.shortNames as string[] | undefined) ?? [],
          categories: (e.categories as string[] | undefined) ?? [],
          statusSubresource: has.includes('status'),
          custom: false,
          extraFieldSelectors: extraFieldSelectors[`${group}/${name}`] ?? [],
        };
        if (has.includes('scale'))
          t.scale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' };
        this.types.set(`${group}/${version}/${name}`, t);
      }
    }
  }

  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.get(`${group}/${version}/${resource}`);
  }

  /** Every served type (built-in and custom). */
  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Served versions of a group, in preference order; built-in order first, then CRD order. */
  groupVersions(group: string): string[] {
    const out: string[] = [];
    for (const t of this.types.values())
      if (t.group === group && !out.includes(t.version)) out.push(t.version);
    if (group === 'autoscaling' && !out.includes('v1')) out.push('v1');
    return out;
  }

  /** Finds the type serving a kind in a group/version (for ownerReferences and Events). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values())
      if (gvString(t.group, t.version) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  /** Any served version of a group/resource (GC looks owners up by group and kind only). */
  byGroupKind(group: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) if (t.group === group && t.kind === kind) return t;
    return undefined;
  }

  schemaOf(t: ResourceType): JsonObject | undefined {
    return this.crdVersions.get(`${t.group}/${t.version}/${t.resource}`);
  }

  printerColumnsOf(t: ResourceType): JsonObject[] | undefined {
    const v = this.crdVersions.get(`${t.group}/${t.version}/${t.resource}#columns`);
    return v ? (v.columns as JsonObject[]) : undefined;
  }

  /** Registers (or re-registers) the served versions of an established CRD. */
  registerCrd(crd: JsonObject): ResourceType[] {
    const name = (crd.metadata as JsonObject).name as string;
    this.unregisterCrd(name);
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    const group = spec.group as string;
    const out: ResourceType[] = [];
    for (const v of (spec.versions as JsonObject[]) ?? []) {
      if (v.served !== true) continue;
      const subs = isObject(v.subresources) ? v.subresources : {};
      const scale = isObject(subs.scale) ? subs.scale : undefined;
      const t: ResourceType = {
        group,
        version: v.name as string,
        resource: names.plural as string,
        singular: (names.singular as string) || (names.kind as string).toLowerCase(),
        kind: names.kind as string,
        listKind: (names.listKind as string) || `${names.kind as string}List`,
        namespaced: spec.scope !== 'Cluster',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: (names.shortNames as string[] | undefined) ?? [],
        categories: (names.categories as string[] | undefined) ?? [],
        statusSubresource: isObject(subs.status),
        custom: true,
      };
      if (scale) {
        t.scale = {
          specReplicasPath: scale.specReplicasPath as string,
          statusReplicasPath: scale.statusReplicasPath as string,
          ...(typeof scale.labelSelectorPath === 'string'
            ? { labelSelectorPath: scale.labelSelectorPath }
            : {}),
        };
      }
      const key = `${group}/${t.version}/${t.resource}`;
      this.types.set(key, t);
      const schema = isObject(v.schema) && isObject(v.schema.openAPIV3Schema) ? v.schema.openAPIV3Schema : {};
      this.crdVersions.set(key, schema);
      const cols = Array.isArray(v.additionalPrinterColumns)
        ? (v.additionalPrinterColumns as JsonObject[])
        : undefined;
      if (cols) this.crdVersions.set(`${key}#columns`, { columns: cols });
      out.push(t);
    }
    this.crdTypes.set(name, out);
    return out;
  }

  unregisterCrd(name: string): ResourceType[] {
    const old = this.crdTypes.get(name) ?? [];
    for (const t of old) {
      const key = `${t.group}/${t.version}/${t.resource}`;
      this.types.delete(key);
      this.crdVersions.delete(key);
      this.crdVersions.delete(`${key}#columns`);
    }
    this.crdTypes.delete(name);
    return old;
  }
}
