// Provider `istio`: the same VirtualService and DestinationRules as provider `fledge` (routers/mesh.ts), for a
// real Istio to serve; fledge's xDS server is not involved. Only the flavor below differs.
import type { KubeConfig } from '@kubernetes/client-node';
import type { RouterOptions } from '../router.js';
import { VirtualServiceRouter } from './mesh.js';
import type { RouteFlavor } from './routes.js';

/** v1beta1: served by Istio releases older than 1.22 (which added v1) as well as newer ones, and by our CRDs. */
export const ISTIO_FLAVOR: RouteFlavor = {
  provider: 'istio',
  apiVersion: 'networking.istio.io/v1beta1',
  labels: { 'app.kubernetes.io/managed-by': 'fledge' },
};

export class IstioRouter extends VirtualServiceRouter {
  constructor(kc: KubeConfig, opts: RouterOptions = {}) {
    super(kc, ISTIO_FLAVOR, opts);
  }
}
