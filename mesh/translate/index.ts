// translate(model, clientKind): the mesh model as Envoy v3 resources for one client kind. Pure and
// deterministic: equal models give byte-identical resources (every collection is sorted).
import type { MeshModel } from '../model.js';
import { endpointsOf } from '../model.js';
import { buildCluster, buildLoadAssignment, clusterTargets, usesEds } from './clusters.js';
import type { ClientKind } from './context.js';
import { makeContext } from './context.js';
import { proxylessListeners, sidecarListeners, sortMap } from './listeners.js';
import type { ProtoObject } from './proto.js';
import type { LoadAssignmentMemo, RouteMemo } from './memo.js';
import { prune } from './proto.js';

export type { ClientKind } from './context.js';
export type { ProtoObject, ProtoValue } from './proto.js';
export { TYPE_URLS, shortHash } from './proto.js';
export { LoadAssignmentMemo, RouteMemo } from './memo.js';

/**
 * Resources by name, each map sorted by name. `routes` is empty for proxyless clients (their route
 * configs are inline in the listeners). `notes` says, sorted, where a setting could not be honoured
 * for this client kind and what was sent instead.
 */
export interface EnvoyResources {
  listeners: ReadonlyMap<string, ProtoObject>;
  routes: ReadonlyMap<string, ProtoObject>;
  clusters: ReadonlyMap<string, ProtoObject>;
  endpoints: ReadonlyMap<string, ProtoObject>;
  notes: string[];
}

const pruned = (m: Map<string, ProtoObject>): Map<string, ProtoObject> =>
  sortMap(new Map([...m.entries()].map(([k, v]) => [k, prune(v)])));

/** Clusters and their load assignments: they depend on Services, endpoints and DestinationRules only. */
export type ClusterResources = Pick<EnvoyResources, 'clusters' | 'endpoints' | 'notes'>;
/** Clusters alone: they depend on Services and DestinationRules only. */
export type ClusterDefinitions = Pick<EnvoyResources, 'clusters' | 'notes'>;
/** Listeners and route configurations: what a VirtualService change alters. */
export type RouteResources = Pick<EnvoyResources, 'listeners' | 'routes' | 'notes'>;

/**
 * The cluster half of translate(): reads only the model's Services and DestinationRules, never its
 * VirtualServices, so a publish that changed only VirtualServices may keep the previous result.
 */
export function translateClusters(model: MeshModel, kind: ClientKind): ClusterResources {
  return { ...translateClusterDefinitions(model, kind), endpoints: translateLoadAssignments(model, kind) };
}

/** The clusters of translateClusters(), without load assignments: no endpoint is read. */
export function translateClusterDefinitions(model: MeshModel, kind: ClientKind): ClusterDefinitions {
  const ctx = makeContext(model, kind);
  const clusters = new Map<string, ProtoObject>();
  for (const t of clusterTargets(ctx)) clusters.set(t.name, buildCluster(ctx, t));
  return { clusters: pruned(clusters), notes: [...ctx.notes].sort() };
}

/**
 * The load assignments of translateClusters() (pruned, sorted by name). With a memo, a cluster whose
 * endpoints and subset labels are the same objects as in the previous build gets the same object back.
 */
export function translateLoadAssignments(
  model: MeshModel,
  kind: ClientKind,
  memo?: LoadAssignmentMemo,
): ReadonlyMap<string, ProtoObject> {
  const ctx = makeContext(model, kind);
  const out = new Map<string, ProtoObject>();
  for (const t of clusterTargets(ctx)) {
    if (!usesEds(ctx, t)) continue;
    const endpoints = endpointsOf(ctx.endpoints, t.service.hostname, t.port);
    const make = (): ProtoObject => prune(buildLoadAssignment(t, endpoints));
    out.set(t.name, memo ? memo.get(t.name, endpoints, t.labels, make) : make());
  }
  return out;
}

/**
 * The listener half of translate(). With a memo, each Service port's translation is reused while its
 * VirtualService is unchanged: the caller must clear the memo whenever Services or DestinationRules change.
 * Listeners and routes come out pruned.
 */
export function translateRoutes(model: MeshModel, kind: ClientKind, memo?: RouteMemo): RouteResources {
  const ctx = makeContext(model, kind);
  let listeners: Map<string, ProtoObject>;
  let routes = new Map<string, ProtoObject>();
  if (kind === 'sidecar') ({ listeners, routes } = sidecarListeners(ctx, memo));
  else listeners = proxylessListeners(ctx, memo);
  return { listeners, routes, notes: [...ctx.notes].sort() };
}

/** Both halves as one result; notes are the sorted union of theirs. */
function combine(clusters: ClusterResources, routes: RouteResources): EnvoyResources {
  return {
    listeners: routes.listeners,
    routes: routes.routes,
    clusters: clusters.clusters,
    endpoints: clusters.endpoints,
    notes: [...new Set([...clusters.notes, ...routes.notes])].sort(),
  };
}

export function translate(model: MeshModel, kind: ClientKind): EnvoyResources {
  return combine(translateClusters(model, kind), translateRoutes(model, kind));
}
