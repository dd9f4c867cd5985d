// The Router edge (SPEC §3.1, §3.3): how the operator writes and reads a Canary's traffic split, whatever
// serves it. createRouter picks the implementation for spec.provider; routers/ holds them.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Canary, CanaryProvider } from '../crds/schema/flagger.js';
import type { Outcome } from './k8s/client.js';
import type { RouteState } from './scheduler/index.js';
import { IstioRouter } from './routers/istio.js';
import { KubernetesRouter } from './routers/kubernetes.js';
import { MeshRouter } from './routers/mesh.js';

/** Percentages of requests to the primary and the canary; they sum to 100. */
export interface RouteWeights {
  primary: number;
  canary: number;
}

/** A value, or a problem naming the Canary field at fault (API errors included). */
export type RouterResult<T> = Outcome<T>;

export interface Router {
  /** Ensure DestinationRules + VirtualService exist and carry the spec's service settings; a new VirtualService routes 100/0; an existing one keeps its current routes (weights, A/B match, mirror, session cookie). Returns problems as data. */
  reconcile(canary: Canary): Promise<RouterResult<void>>;
  /** Weights served now, read back from the route that carries them (A/B: the matching requests'); null when the VirtualService does not exist. */
  getWeights(canary: Canary): Promise<RouterResult<RouteWeights | null>>;
  /** Writes the routes (SPEC §3.4 layouts); returns the VirtualService's metadata.generation after the write (for convergence waits). */
  setRoutes(canary: Canary, r: RouteState): Promise<RouterResult<{ generation: number }>>;
}

export interface RouterOptions {
  /** Deadline of each API call. */
  timeoutMs?: number;
}

/** The router for `provider`; a provider without one yet is a problem on spec.provider, never a fallback. */
export function createRouter(
  provider: CanaryProvider,
  kc: KubeConfig,
  opts: RouterOptions = {},
): RouterResult<Router> {
  switch (provider) {
    case 'fledge':
      return { ok: true, value: new MeshRouter(kc, opts) };
    case 'istio':
      return { ok: true, value: new IstioRouter(kc, opts) };
    case 'kubernetes':
      return { ok: true, value: new KubernetesRouter(kc, opts) };
  }
}
