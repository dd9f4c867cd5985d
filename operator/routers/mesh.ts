// Provider `fledge`: the Canary's VirtualService and DestinationRules, served by fledge's own mesh (SPEC §2.3).
// Also the reader/writer of these objects that the `istio` router shares (routers/istio.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Canary } from '../../crds/schema/flagger.js';
import type { KubeResource } from '../k8s/client.js';
import { customResources, failureProblem } from '../k8s/client.js';
import type { Router, RouterOptions, RouterResult, RouteWeights } from '../router.js';
import type { RouteState } from '../scheduler/index.js';
import type { DestinationRule, RouteFlavor, VirtualService } from './routes.js';
import {
  buildDestinationRules,
  buildVirtualService,
  readRoutes,
  readWeights,
  reconciledRoutes,
  updatedRouteObject,
} from './routes.js';

/** Routes of a VirtualService fledge creates: everything to the primary. */
const INITIAL_ROUTES: RouteState = { primary: 100, canary: 0 };

/**
 * fledge's mesh reads networking.istio.io objects at any served version; it writes them as `v1`, the version
 * our CRDs store, so what is read back is exactly what was written.
 */
export const MESH_FLAVOR: RouteFlavor = {
  provider: 'fledge',
  apiVersion: 'networking.istio.io/v1',
  labels: { 'app.kubernetes.io/managed-by': 'fledge' },
};

/**
 * A Router over VirtualService + DestinationRules (Flagger's layout, see routes.ts). Every write is a
 * read-modify-write guarded by resourceVersion, and reconcile derives the desired VirtualService from the
 * routes it has just read (weights, A/B match, mirror, session cookie), so spec changes never reset them.
 */
export class VirtualServiceRouter implements Router {
  private readonly virtualServices: KubeResource<VirtualService>;
  private readonly destinationRules: KubeResource<DestinationRule>;

  constructor(
    kc: KubeConfig,
    readonly flavor: RouteFlavor,
    opts: RouterOptions = {},
  ) {
    const [group = '', version = ''] = flavor.apiVersion.split('/');
    this.virtualServices = customResources<VirtualService>(
      kc,
      { group, version, plural: 'virtualservices', kind: 'VirtualService' },
      opts.timeoutMs,
    );
    this.destinationRules = customResources<DestinationRule>(
      kc,
      { group, version, plural: 'destinationrules', kind: 'DestinationRule' },
      opts.timeoutMs,
    );
  }

  async reconcile(canary: Canary): Promise<RouterResult<void>> {
    // Everything is built (and so checked) before the first write.
    const rules = buildDestinationRules(canary, this.flavor);
    if (!rules.ok) return rules;
    const initial = buildVirtualService(canary, INITIAL_ROUTES, this.flavor);
    if (!initial.ok) return initial;
    for (const rule of rules.value) {
      const r = await this.destinationRules.ensure(rule, (current) => updatedRouteObject(current, rule));
      if (!r.ok)
        return failureProblem(r, 'spec.service', `writing DestinationRule ${rule.metadata.name ?? ''}`);
    }
    const r = await this.virtualServices.ensure(initial.value, (current) => {
      const served = readRoutes(canary, current);
      return updatedRouteObject(
        current,
        this.virtualService(canary, served.ok ? reconciledRoutes(canary, served.value) : INITIAL_ROUTES),
      );
    });
    if (!r.ok) return failureProblem(r, 'spec.service', `writing VirtualService ${canary.spec.service.name}`);
    return { ok: true, value: undefined };
  }

  async getWeights(canary: Canary): Promise<RouterResult<RouteWeights | null>> {
    const name = canary.spec.service.name;
    const got = await this.virtualServices.get(canary.metadata.namespace, name);
    if (!got.ok) return failureProblem(got, 'spec.service.name', `reading VirtualService ${name}`);
    if (got.value === null) return { ok: true, value: null };
    return readWeights(canary, got.value);
  }

  async setRoutes(canary: Canary, routes: RouteState): Promise<RouterResult<{ generation: number }>> {
    const name = canary.spec.service.name;
    const desired = buildVirtualService(canary, routes, this.flavor);
    if (!desired.ok) return desired;
    const r = await this.virtualServices.modify(canary.metadata.namespace, name, (current) =>
      updatedRouteObject(current, desired.value),
    );
    if (!r.ok) return failureProblem(r, 'spec.service.name', `writing VirtualService ${name}`);
    if (r.value === null)
      return {
        ok: false,
        field: 'spec.service.name',
        message: `VirtualService ${name} does not exist: the routes must be reconciled first`,
      };
    return { ok: true, value: { generation: r.value.object.metadata.generation ?? 0 } };
  }

  /** The desired VirtualService for routes `r`; the spec was already checked by a build in reconcile. */
  private virtualService(canary: Canary, r: RouteState): VirtualService {
    const built = buildVirtualService(canary, r, this.flavor);
    if (!built.ok) throw new Error(`VirtualService build failed after it passed: ${built.message}`);
    return built.value;
  }
}

/** Provider `fledge`. */
export class MeshRouter extends VirtualServiceRouter {
  constructor(kc: KubeConfig, opts: RouterOptions = {}) {
    super(kc, MESH_FLAVOR, opts);
  }
}
