// Test fixture for the assembled mesh: a sandbox API server with the CRDs, demo gRPC backends on loopback
// published as Services + EndpointSlices, the mesh (startMesh) serving them, and proxyless xDS clients.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CustomObjectsApi,
  DiscoveryV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { Mesh } from '../../mesh/mesh.js';
import { startMesh } from '../../mesh/mesh.js';
import type { DemoApp } from '../../sandbox/demo-app/app.js';
import { startDemoApp } from '../../sandbox/demo-app/app.js';
import { DemoClient } from '../../sandbox/demo-app/proto.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';

export const NS = 'default';
export const PORT = 9000;

export interface Backend {
  app: DemoApp;
  service: string;
}

const quietLog = {
  info: () => undefined,
  warn: () => undefined,
  error: (obj: object, msg: string) => console.error(msg, obj),
};

export class MeshFixture {
  cluster!: TestCluster;
  mesh!: Mesh;
  registry = new Registry();
  backends: Backend[] = [];
  clients: DemoClient[] = [];
  private nodeSeq = 0;

  get kc(): KubeConfig {
    return this.cluster.kc;
  }

  async start(): Promise<void> {
    this.cluster = await startTestCluster();
    await installCrds(this.kc);
  }

  async startMesh(port = 0): Promise<Mesh> {
    this.registry = new Registry();
    this.mesh = await startMesh({ kc: this.kc, log: quietLog, registry: this.registry, xdsPort: port });
    await this.mesh.whenReady();
    return this.mesh;
  }

  /** A demo app (version = service name unless given) behind Service `service` with one EndpointSlice. */
  async backend(service: string, opts: { version?: string; errorRate?: number } = {}): Promise<Backend> {
    const app = await startDemoApp({
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      version: opts.version ?? service,
      podName: `${service}-pod`,
      ...(opts.errorRate !== undefined ? { errorRate: opts.errorRate } : {}),
    });
    await this.service(service, [{ ip: '127.0.0.1', port: app.grpcPort, pod: `${service}-pod` }]);
    const b = { app, service };
    this.backends.push(b);
    return b;
  }

  /** A selector-less Service on PORT (grpc) and its EndpointSlice with the given addresses. */
  async service(name: string, endpoints: Array<{ ip: string; port: number; pod?: string }>): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name },
        spec: { ports: [{ name: 'grpc', port: PORT, targetPort: PORT, appProtocol: 'grpc' }] },
      },
    });
    if (endpoints.length === 0) return;
    const disc = this.kc.makeApiClient(DiscoveryV1Api);
    await disc.createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: {
          name: `${name}-manual`,
          labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'test' },
        },
        addressType: 'IPv4',
        ports: endpoints[0] ? [{ name: 'grpc', port: endpoints[0].port, protocol: 'TCP' }] : [],
        endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: true } })),
      },
    });
  }

  /** Creates (or replaces the spec of) VirtualService `name`; returns its generation. */
  async virtualService(name: string, spec: object): Promise<number> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    const base = { group: 'networking.istio.io', version: 'v1', namespace: NS, plural: 'virtualservices' };
    try {
      const r = (await api.patchNamespacedCustomObject(
        { ...base, name, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as { metadata: { generation: number } };
      return r.metadata.generation;
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
      const r = (await api.createNamespacedCustomObject({
        ...base,
        body: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name }, spec },
      })) as { metadata: { generation: number } };
      return r.metadata.generation;
    }
  }

  async destinationRule(name: string, spec: object): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1',
      namespace: NS,
      plural: 'destinationrules',
      body: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name }, spec },
    });
  }

  /** A proxyless gRPC client of `xds:///<host>.default.svc.cluster.local:9000` with its own bootstrap. */
  client(host: string, xdsPort = this.mesh.xdsPort): DemoClient {
    const bootstrap = {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${xdsPort}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: {
        id: `test-proxyless-${++this.nodeSeq}`,
        locality: {},
        metadata: { kind: 'proxyless', namespace: NS },
      },
    };
    const c = new DemoClient(`xds:///${host}.${NS}.svc.cluster.local:${PORT}`, {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    });
    this.clients.push(c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.mesh?.stop();
    await Promise.all(this.backends.map((b) => b.app.close()));
    await this.cluster?.close();
  }
}

/** Calls `n` times (100 at a time) and counts answers by version, errors as `error:<CODE>`. */
export async function countCalls(
  client: DemoClient,
  n: number,
  request: { message: string; metadata?: Record<string, string> } = { message: 'hi' },
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () => client.echo({ message: request.message })),
    );
    for (const r of batch) {
      const key = r.ok ? r.value.version : `error:${r.codeName}`;
      out[key] = (out[key] ?? 0) + 1;
    }
  }
  return out;
}

/** A weighted route of `host` to primary/canary Services on PORT. */
export const weightedSpec = (host: string, primary: string, canary: string, w: number): object => ({
  hosts: [host],
  http: [
    {
      route: [
        { destination: { host: primary, port: { number: PORT } }, weight: 100 - w },
        { destination: { host: canary, port: { number: PORT } }, weight: w },
      ],
    },
  ],
});
