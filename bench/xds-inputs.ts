// Mesh inputs of the xDS benchmark: the `echo` canary (two subsets on real loopback backends) whose
// VirtualService weights the benchmark changes, plus background services so every rebuild has real work.
import type { MeshInputs } from '../mesh/model.js';
import type { KubeEndpointSlice, KubeNetworkingObject, KubePod, KubeService } from '../mesh/kube.js';

export const ECHO_NAMESPACE = 'demo';
export const ECHO_NAME = 'echo';
export const ECHO_PORT = 50051;
/** The proxyless listener (and xds:/// target) of the echo Service. */
export const ECHO_LISTENER = `${ECHO_NAME}.${ECHO_NAMESPACE}.svc.cluster.local:${ECHO_PORT}`;

const CREATED = '2024-05-01T10:00:00Z';

export interface BenchMesh {
  inputs: MeshInputs;
  /** Replaces the echo VirtualService with one at these weights (v1, v2) and a new generation. */
  setEchoWeights(v1Percent: number, v2Percent: number): void;
}

interface ServiceSpec {
  namespace: string;
  name: string;
  clusterIP: string;
  /** Per subset (v1, v2): the pod addresses and the pod port they listen on. */
  subsets: Array<{ version: string; address: string; port: number }>;
}

function serviceObjects(s: ServiceSpec): {
  service: KubeService;
  slices: KubeEndpointSlice[];
  pods: KubePod[];
  rule: KubeNetworkingObject;
} {
  const meta = (name: string): { name: string; namespace: string } => ({ name, namespace: s.namespace });
  return {
    service: {
      metadata: meta(s.name),
      spec: {
        clusterIP: s.clusterIP,
        ports: [{ name: 'grpc', port: ECHO_PORT, targetPort: 'grpc', protocol: 'TCP' }],
      },
    },
    // One slice per subset: the two echo backends listen on different loopback ports.
    slices: s.subsets.map((sub) => ({
      metadata: {
        ...meta(`${s.name}-${sub.version}`),
        labels: { 'kubernetes.io/service-name': s.name },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port: sub.port, protocol: 'TCP' }],
      endpoints: [
        {
          addresses: [sub.address],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', name: `${s.name}-${sub.version}-a`, namespace: s.namespace },
        },
      ],
    })),
    pods: s.subsets.map((sub) => ({
      metadata: {
        ...meta(`${s.name}-${sub.version}-a`),
        labels: { app: s.name, version: sub.version },
      },
    })),
    rule: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { ...meta(s.name), generation: 1, creationTimestamp: CREATED },
      spec: {
        host: s.name,
        subsets: s.subsets.map((sub) => ({ name: sub.version, labels: { version: sub.version } })),
      },
    },
  };
}

function virtualService(
  namespace: string,
  name: string,
  generation: number,
  v1Percent: number,
  v2Percent: number,
): KubeNetworkingObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace, generation, creationTimestamp: CREATED },
    spec: {
      hosts: [name],
      http: [
        {
          route: [
            { destination: { host: name, subset: 'v1' }, weight: v1Percent },
            { destination: { host: name, subset: 'v2' }, weight: v2Percent },
          ],
        },
      ],
    },
  };
}

/**
 * The echo canary on 127.0.0.1:`v1Port` / `v2Port` at 90/10, and `background` other services (two
 * subsets, a 50/50 VirtualService each, addresses that are never called).
 */
export function benchMesh(v1Port: number, v2Port: number, background: number): BenchMesh {
  const specs: ServiceSpec[] = [
    {
      namespace: ECHO_NAMESPACE,
      name: ECHO_NAME,
      clusterIP: '10.96.0.20',
      subsets: [
        { version: 'v1', address: '127.0.0.1', port: v1Port },
        { version: 'v2', address: '127.0.0.1', port: v2Port },
      ],
    },
  ];
  for (let i = 0; i < background; i++)
    specs.push({
      namespace: 'bench',
      name: `svc-${i}`,
      clusterIP: `10.96.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      subsets: [
        { version: 'v1', address: `10.1.${Math.floor(i / 250)}.${1 + (i % 250)}`, port: 8080 },
        { version: 'v2', address: `10.2.${Math.floor(i / 250)}.${1 + (i % 250)}`, port: 8080 },
      ],
    });
  const objects = specs.map(serviceObjects);
  const virtualServices = [
    virtualService(ECHO_NAMESPACE, ECHO_NAME, 1, 90, 10),
    ...specs.slice(1).map((s) => virtualService(s.namespace, s.name, 1, 50, 50)),
  ];
  let generation = 1;
  const inputs = {
    services: objects.map((o) => o.service),
    endpointSlices: objects.flatMap((o) => o.slices),
    pods: objects.flatMap((o) => o.pods),
    virtualServices,
    destinationRules: objects.map((o) => o.rule),
  };
  return {
    inputs,
    setEchoWeights(v1Percent, v2Percent) {
      generation++;
      virtualServices[0] = virtualService(ECHO_NAMESPACE, ECHO_NAME, generation, v1Percent, v2Percent);
    },
  };
}
