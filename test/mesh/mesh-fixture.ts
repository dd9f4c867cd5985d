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
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { Mesh } from '../../mesh/mesh.js';
import { startMesh } from '../../mesh/mesh.js';
import type { DemoApp } from '../../sandbox/demo-app/app.js';
import { startDemoApp } from '../../sandbox/demo-app/app.js';
import type { EchoRequest, EchoResult } from '../../sandbox/demo-app/proto.js';
import { DemoClient, echoMethod, loadDemoService, toEchoResponse } from '../../sandbox/demo-app/proto.js';
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
  clients: Array<{ close(): void }> = [];
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
    const first = endpoints[0];
    if (first === undefined) return;
    await this.endpointSlice(
      name,
      `${name}-manual`,
      first.port,
      endpoints.map((e) => ({ ip: e.ip })),
    );
  }

  /**
   * An EndpointSlice of Service `service` (port `grpc` = `port`); an endpoint with `pod` gets a targetRef to
   * that Pod, whose labels then select it for DestinationRule subsets.
   */
  async endpointSlice(
    service: string,
    name: string,
    port: number,
    endpoints: Array<{ ip: string; pod?: string }>,
  ): Promise<void> {
    const disc = this.kc.makeApiClient(DiscoveryV1Api);
    await disc.createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: {
          name,
          labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'test' },
        },
        addressType: 'IPv4',
        ports: [{ name: 'grpc', port, protocol: 'TCP' }],
        endpoints: endpoints.map((e) => ({
          addresses: [e.ip],
          conditions: { ready: true },
          ...(e.pod !== undefined ? { targetRef: { kind: 'Pod', namespace: NS, name: e.pod } } : {}),
        })),
      },
    });
  }

  /**
   * Several demo apps behind ONE Service `service`: each member is a Pod object (no kubelet runs it) named
   * after its version, with `labels`, served by an in-process demo app on its own port, in its own
   * EndpointSlice whose endpoint points at the Pod.
   */
  async pool(
    service: string,
    members: Array<{ version: string; labels?: Record<string, string>; errorRate?: number }>,
  ): Promise<Backend[]> {
    await this.service(service, []);
    const core = this.kc.makeApiClient(CoreV1Api);
    const out: Backend[] = [];
    for (const m of members) {
      const app = await startDemoApp({
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        version: m.version,
        podName: m.version,
        ...(m.errorRate !== undefined ? { errorRate: m.errorRate } : {}),
      });
      const b = { app, service };
      this.backends.push(b);
      out.push(b);
      await core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: m.version, labels: m.labels ?? {} },
          spec: { containers: [{ name: 'app', image: 'fledge/demo-app:1.0.0' }] },
        },
      });
      await this.endpointSlice(service, m.version, app.grpcPort, [{ ip: '127.0.0.1', pod: m.version }]);
    }
    return out;
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
    const c = new DemoClient(xdsTarget(host), this.xdsChannelOptions(xdsPort));
    this.clients.push(c);
    return c;
  }

  /** Like client(), but its calls can carry request metadata (header matches, hash keys). */
  metadataClient(host: string, channelOptions: grpc.ChannelOptions = {}): MetadataClient {
    const c = new MetadataClient(xdsTarget(host), {
      ...this.xdsChannelOptions(this.mesh.xdsPort),
      ...channelOptions,
    });
    this.clients.push(c);
    return c;
  }

  /** Channel options giving a channel its own bootstrap (a new node id) for the xDS server on `xdsPort`. */
  private xdsChannelOptions(xdsPort: number): grpc.ChannelOptions {
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
    return { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) };
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.mesh?.stop();
    await Promise.all(this.backends.map((b) => b.app.close()));
    await this.cluster?.close();
  }
}

const xdsTarget = (host: string): string => `xds:///${host}.${NS}.svc.cluster.local:${PORT}`;

/** A proxyless client of the demo Echo whose calls carry request metadata; @grpc/grpc-js directly. */
export class MetadataClient {
  private readonly client: grpc.Client;
  private readonly echoDef = echoMethod(loadDemoService());

  constructor(target: string, channelOptions: grpc.ChannelOptions) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), channelOptions);
  }

  echo(request: EchoRequest, metadata: Record<string, string> = {}, timeoutMs = 5000): Promise<EchoResult> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        this.echoDef.path,
        (req: EchoRequest) => this.echoDef.requestSerialize(req),
        (buf: Buffer) => toEchoResponse(this.echoDef.responseDeserialize(buf)),
        request,
        md,
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (err)
            resolve({ ok: false, code: err.code, codeName: grpc.status[err.code], details: err.details });
          else if (value === undefined)
            resolve({ ok: false, code: grpc.status.INTERNAL, codeName: 'INTERNAL', details: 'no response' });
          else resolve({ ok: true, value });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Makes `n` calls (call(i) for i in 0..n-1), 100 at a time, and returns their results in order. */
export async function runCalls(n: number, call: (i: number) => Promise<EchoResult>): Promise<EchoResult[]> {
  const out: EchoResult[] = [];
  for (let i = 0; i < n; i += 100) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => call(i + k)))));
  }
  return out;
}

/** Counts results by the answering version, errors as `error:<CODE>`. */
export function tally(results: readonly EchoResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? r.value.version : `error:${r.codeName}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Calls `n` times (100 at a time) and counts answers by version, errors as `error:<CODE>`. */
export async function countCalls(
  client: DemoClient,
  n: number,
  request: { message: string; metadata?: Record<string, string> } = { message: 'hi' },
): Promise<Record<string, number>> {
  return tally(await runCalls(n, () => client.echo({ message: request.message })));
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
