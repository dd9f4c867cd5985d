// Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
import { createHash } from 'node:crypto';
import { builtinDiscovery } from './builtins/discovery-data.js';
import type { Registry } from './registry.js';
import type { JsonObject } from './types.js';

/** Built-in groups in the order kube-apiserver lists them (only those the sandbox serves). */
const BUILTIN_GROUP_ORDER = [
  'apps',
  'events.k8s.io',
  'autoscaling',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'apiextensions.k8s.io',
];

export function versionDoc(): JsonObject {
  return {
    major: '1',
    minor: '26',
    gitVersion: 'v1.26.1',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.19.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersionsDoc(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(registry: Registry, group: string): JsonObject | undefined {
  const versions = registry.groupVersions(group);
  if (versions.length === 0) return undefined;
  const list = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: list, preferredVersion: list[0] as JsonObject };
}

export function groupListDoc(registry: Registry): JsonObject {
  const groups: string[] = [...BUILTIN_GROUP_ORDER];
  for (const t of registry.all()) if (t.group && !groups.includes(t.group)) groups.push(t.group);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => groupDoc(registry, g)).filter((g): g is JsonObject => g !== undefined),
  };
}

export function groupDocFor(registry: Registry, group: string): JsonObject | undefined {
  const g = groupDoc(registry, group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : undefined;
}

export function resourceListDoc(registry: Registry, group: string, version: string): JsonObject | undefined {
  const gv = group ? `${group}/${version}` : version;
  const builtin = builtinDiscovery[gv];
  const custom = registry.all().filter((t) => t.custom && t.group === group && t.version === version);
  if (!builtin && custom.length === 0) return undefined;
  const resources: JsonObject[] = builtin ? [...builtin] : [];
  for (const t of custom) {
    const main: JsonObject = {
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames && t.shortNames.length > 0) main.shortNames = t.shortNames;
    if (t.categories && t.categories.length > 0) main.categories = t.categories;
    main.storageVersionHash = storageVersionHash(t.group, t.version, t.kind);
    resources.push(main);
    if (t.statusSubresource) {
      resources.push({
        name: `${t.resource}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
    if (t.scale) {
      resources.push({
        name: `${t.resource}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  const doc: JsonObject = { kind: 'APIResourceList', groupVersion: gv, resources };
  if (group) doc.apiVersion = 'v1';
  return doc;
}

/** kube's storage version hash: base64 of the first 8 bytes of sha256("group/version/Kind"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256')
    .update(`${group}/${version}/${kind}`)
    .digest()
    .subarray(0, 8)
    .toString('base64');
}
