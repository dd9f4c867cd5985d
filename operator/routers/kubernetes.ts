// Provider `kubernetes` (SPEC §2.1): blue/green by switching the apex Service's selector between the primary's
// pods and the canary's; no weights, no VirtualService or DestinationRule, no mesh.
import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import type { Canary } from '../../crds/schema/flagger.js';
import type { KubeResource } from '../k8s/client.js';
import { canonicalJson, failureProblem, services } from '../k8s/client.js';
import type { Router, RouterOptions, RouterResult, RouteWeights } from '../router.js';
import type { RouteState } from '../scheduler/index.js';
import { workloadNames } from '../workload.js';

type Side = 'primary' | 'canary';

const WEIGHTS: Record<Side, RouteWeights> = {
  primary: { primary: 100, canary: 0 },
  canary: { primary: 0, canary: 100 },
};

/** The selectors of the primary and canary Services, which bootstrap wrote from the target's selector label. */
interface Selectors {
  apex: V1Service;
  primary: Record<string, string>;
  canary: Record<string, string>;
}

/**
 * The apex Service selects the primary's pods (100/0) or the canary's (0/100); the selectors are copied from
 * the `-primary` and `-canary` Services, so the router never needs the target. Every write is a read-modify-write
 * guarded by resourceVersion.
 */
export class KubernetesRouter implements Router {
  private readonly services: KubeResource<V1Service>;

  constructor(kc: KubeConfig, opts: RouterOptions = {}) {
    this.services = services(kc, opts.timeoutMs);
  }

  /**
   * The apex Service is the workload's (bootstrap creates it selecting the primary, and puts its selector back
   * there on every bootstrap); this re-points it at the side the run's status stands on (canaryWeight above 0:
   * the canary), so a switch made earlier in the run holds.
   */
  async reconcile(canary: Canary): Promise<RouterResult<void>> {
    const side: Side = (canary.status?.canaryWeight ?? 0) > 0 ? 'canary' : 'primary';
    const r = await this.select(canary, side);
    return r.ok ? { ok: true, value: undefined } : r;
  }

  async getWeights(canary: Canary): Promise<RouterResult<RouteWeights | null>> {
    const s = await this.selectors(canary);
    if (!s.ok) return s;
    if (s.value === null) return { ok: true, value: null };
    const served = canonicalJson(s.value.apex.spec?.selector ?? {});
    if (served === canonicalJson(s.value.canary)) return { ok: true, value: WEIGHTS.canary };
    if (served === canonicalJson(s.value.primary)) return { ok: true, value: WEIGHTS.primary };
    return {
      ok: false,
      field: 'spec.service.name',
      message: `Service ${canary.spec.service.name} selects ${served}: neither the primary's nor the canary's pods`,
    };
  }

  /** Only all-or-nothing routes: 100/0 or 0/100; weights, A/B matches, mirroring and cookies need a mesh. */
  async setRoutes(canary: Canary, routes: RouteState): Promise<RouterResult<{ generation: number }>> {
    const needsMesh = 'needs a mesh: provider kubernetes only switches the Service selector (blue/green)';
    if (routes.match !== undefined)
      return { ok: false, field: 'spec.analysis.match', message: `A/B routing ${needsMesh}` };
    if (routes.mirror !== undefined)
      return { ok: false, field: 'spec.analysis.mirror', message: `mirroring ${needsMesh}` };
    if (routes.sessionAffinity !== undefined)
      return { ok: false, field: 'spec.analysis.sessionAffinity', message: `session affinity ${needsMesh}` };
    const side = sideOf(routes);
    if (side === undefined)
      return {
        ok: false,
        field: 'spec.provider',
        message: `weights ${routes.primary}/${routes.canary} (canary strategy, spec.analysis.stepWeight) ${needsMesh}`,
      };
    const r = await this.select(canary, side);
    // Services carry no generation; nothing waits for convergence with this provider.
    return r.ok ? { ok: true, value: { generation: 0 } } : r;
  }

  /** Points the apex Service's selector at `side`'s pods (no write when it already does). */
  private async select(canary: Canary, side: Side): Promise<RouterResult<void>> {
    const s = await this.selectors(canary);
    if (!s.ok) return s;
    const name = canary.spec.service.name;
    if (s.value === null)
      return {
        ok: false,
        field: 'spec.service.name',
        message: `Service ${name} (or its -primary/-canary Services) does not exist: the workload must be bootstrapped first`,
      };
    const selector = s.value[side];
    const r = await this.services.modify(canary.metadata.namespace, name, (current) =>
      canonicalJson(current.spec?.selector ?? {}) === canonicalJson(selector)
        ? null
        : { ...current, spec: { ...current.spec, selector: { ...selector } } },
    );
    if (!r.ok) return failureProblem(r, 'spec.service.name', `writing Service ${name}`);
    if (r.value === null)
      return { ok: false, field: 'spec.service.name', message: `Service ${name} does not exist` };
    return { ok: true, value: undefined };
  }

  /** The apex Service and the two selectors; null when any of the three Services is missing. */
  private async selectors(canary: Canary): Promise<RouterResult<Selectors | null>> {
    const names = workloadNames(canary);
    const ns = canary.metadata.namespace;
    const got: V1Service[] = [];
    for (const name of [names.apexService, names.primaryService, names.canaryService]) {
      const r = await this.services.get(ns, name);
      if (!r.ok) return failureProblem(r, 'spec.service.name', `reading Service ${name}`);
      if (r.value === null) return { ok: true, value: null };
      got.push(r.value);
    }
    const [apex, primary, canarySvc] = got;
    if (!apex || !primary || !canarySvc) return { ok: true, value: null };
    return {
      ok: true,
      value: { apex, primary: primary.spec?.selector ?? {}, canary: canarySvc.spec?.selector ?? {} },
    };
  }
}

function sideOf(r: RouteWeights): Side | undefined {
  if (r.primary === 100 && r.canary === 0) return 'primary';
  if (r.primary === 0 && r.canary === 100) return 'canary';
  return undefined;
}
