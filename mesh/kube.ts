// The Kubernetes objects the mesh reads, as the structural subset it needs: plain JSON from the API
// server and @kubernetes/client-node's typed objects both fit (every field optional, dates as either).

/** ObjectMeta fields the mesh reads. */
export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  /** RFC 3339 text (JSON) or a Date (client-node). */
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
}

export interface KubeServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface KubeService {
  metadata?: KubeObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: KubeServicePort[];
  };
}

export interface KubeEndpointSlice {
  metadata?: KubeObjectMeta;
  addressType?: string;
  ports?: Array<{ name?: string | null; port?: number | null; protocol?: string | null }> | null;
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    targetRef?: { kind?: string; name?: string; namespace?: string };
    nodeName?: string | null;
    zone?: string | null;
  }> | null;
}

export interface KubePod {
  metadata?: KubeObjectMeta;
}

export interface KubeNode {
  metadata?: KubeObjectMeta;
}

/** A networking.istio.io object (VirtualService, DestinationRule, …) before validation. */
export interface KubeNetworkingObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
  spec?: unknown;
}

/** EndpointSlice label naming the Service the slice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Timestamps as RFC 3339 text whatever form they came in; '' when absent. */
export function timestampText(t: string | Date | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'string' ? t : t.toISOString();
}

/** `namespace/name`, the key the mesh uses for namespaced objects. */
export const objectKey = (meta: KubeObjectMeta | undefined): string =>
  `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
