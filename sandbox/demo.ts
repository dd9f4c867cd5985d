// The demo scenario on the sandbox, shared by `npm run demo` and the operator's end-to-end tests: the demo
// app Deployment, a gRPC success-rate MetricTemplate, its Canary, releases of new versions, and steady gRPC
// traffic through a real proxyless xDS client that counts answers per version.
import type { KubeConfig } from '@kubernetes/client-node';
import * as grpcXds from '@grpc/grpc-js-xds';
import { kubeRequest } from '../operator/k8s/raw.js';
import { DemoClient } from './demo-app/proto.js';

export const DEMO_NAMESPACE = 'default';
export const DEMO_NAME = 'podinfo';
/** The Service port of the demo's gRPC API (the apex Service podinfo:9999 → pods' port `grpc`). */
export const DEMO_GRPC_PORT = 9999;

/** Creates (POST) an object given as JSON; an existing one is an error. */
export async function createObject(kc: KubeConfig, path: string, body: object): Promise<void> {
  const res = await kubeRequest(kc, { method: 'POST', path, body, timeoutMs: 10_000 });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

/** A JSON merge patch of an existing object. */
export async function patchObject(kc: KubeConfig, path: string, body: object): Promise<void> {
  const res = await kubeRequest(kc, {
    method: 'PATCH',
    path,
    body,
    contentType: 'application/merge-patch+json',
    timeoutMs: 10_000,
  });
  if (res.status !== 200) throw new Error(`PATCH ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

export interface DemoRelease {
  version: string;
  /** Share of calls the version fails (0–1). */
  errorRate?: number;
}

function podTemplate(r: DemoRelease): object {
  return {
    metadata: { labels: { app: DEMO_NAME } },
    spec: {
      containers: [
        {
          name: DEMO_NAME,
          image: `fledge/demo-app:${r.version}`,
          env: [
            { name: 'VERSION', value: r.version },
            { name: 'ERROR_RATE', value: String(r.errorRate ?? 0) },
            // Like a preStop sleep: a stopping pod answers 2 s more while the mesh moves clients off it.
            { name: 'DRAIN_MS', value: '2000' },
          ],
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'grpc', containerPort: 9090 },
          ],
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
        },
      ],
    },
  };
}

/** The target Deployment (the Canary creates the primary and the Services). */
export async function deployDemoApp(kc: KubeConfig, first: DemoRelease, replicas = 2): Promise<void> {
  await createObject(kc, `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEMO_NAME, labels: { app: DEMO_NAME } },
    spec: { replicas, selector: { matchLabels: { app: DEMO_NAME } }, template: podTemplate(first) },
  });
}

/** A new revision: the target's pod template changes (image, VERSION, ERROR_RATE), as a CI pipeline would. */
export async function releaseDemoVersion(kc: KubeConfig, r: DemoRelease): Promise<void> {
  await patchObject(kc, `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments/${DEMO_NAME}`, {
    spec: { template: podTemplate(r) },
  });
}

/**
 * gRPC success rate of the canary's pods, from the demo app's own metrics: `<target>-<hash>-<suffix>` pods
 * (the primary's are `<target>-primary-…` and never match: the generated parts have no vowels).
 */
export function grpcSuccessRateTemplate(prometheusUrl: string): object {
  const sel =
    'namespace="{{ namespace }}",pod=~"{{ target }}-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}"';
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name: 'grpc-success-rate', namespace: DEMO_NAMESPACE },
    spec: {
      provider: { type: 'prometheus', address: prometheusUrl },
      query:
        `(sum(rate(grpc_server_handled_total{${sel},grpc_code="OK"}[{{ interval }}])) or vector(0))` +
        ` / sum(rate(grpc_server_handled_total{${sel}}[{{ interval }}])) * 100`,
    },
  };
}

export interface DemoCanaryOptions {
  interval: string;
  stepWeight: number;
  maxWeight: number;
  threshold: number;
  metricInterval: string;
}

export function demoCanary(o: DemoCanaryOptions): object {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: DEMO_NAME, namespace: DEMO_NAMESPACE },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: DEMO_NAME },
      progressDeadlineSeconds: 120,
      service: { port: DEMO_GRPC_PORT, portName: 'grpc', targetPort: 'grpc', appProtocol: 'grpc' },
      analysis: {
        interval: o.interval,
        threshold: o.threshold,
        stepWeight: o.stepWeight,
        maxWeight: o.maxWeight,
        metrics: [
          {
            name: 'grpc-success-rate',
            templateRef: { name: 'grpc-success-rate' },
            thresholdRange: { min: 99 },
            interval: o.metricInterval,
          },
        ],
      },
    },
  };
}

export interface TrafficCounts {
  /** Answers per version. */
  byVersion: Record<string, number>;
  /** Failed calls per gRPC status name. */
  errors: Record<string, number>;
}

/**
 * Steady gRPC traffic to the demo's apex Service through a proxyless xDS client (the real @grpc/grpc-js-xds),
 * `concurrency` calls in flight at a time, counting answers per version; `window()` gives the counts since
 * the previous call (the split a person watches), `total` everything, and `since()` the calls started from
 * a moment on (what a route change is judged by: a call already in flight keeps the route it started on).
 */
export class DemoTraffic {
  readonly total: TrafficCounts = { byVersion: {}, errors: {} };
  private recent: TrafficCounts = { byVersion: {}, errors: {} };
  private readonly client: DemoClient;
  private running = false;
  private loops: Promise<void>[] = [];
  /** Calls started so far; a since() count takes the calls numbered from its mark on. */
  private started = 0;
  private readonly marks: Array<{ from: number; counts: TrafficCounts }> = [];

  constructor(
    xdsPort: number,
    nodeId: string,
    private readonly concurrency = 4,
  ) {
    grpcXds.register();
    const bootstrap = {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${xdsPort}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: nodeId, locality: {}, metadata: { kind: 'proxyless', namespace: DEMO_NAMESPACE } },
    };
    this.client = new DemoClient(
      `xds:///${DEMO_NAME}.${DEMO_NAMESPACE}.svc.cluster.local:${DEMO_GRPC_PORT}`,
      {
        'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
      },
    );
  }

  /** One call, for warming up: true when it was answered. */
  async probe(): Promise<boolean> {
    return (await this.client.echo({ message: 'probe' }, { timeoutMs: 2000 })).ok;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.client.close();
  }

  /**
   * Live counts of the calls started from now on. A call in flight now is not counted, even if it ends
   * later: it was routed before this moment.
   */
  since(): TrafficCounts {
    const counts: TrafficCounts = { byVersion: {}, errors: {} };
    this.marks.push({ from: this.started, counts });
    return counts;
  }

  /** Counts since the previous window() (or start). */
  window(): TrafficCounts {
    const w = this.recent;
    this.recent = { byVersion: {}, errors: {} };
    return w;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const n = this.started++;
      const r = await this.client.echo({ message: 'demo' }, { timeoutMs: 5000 });
      const marked = this.marks.filter((m) => n >= m.from).map((m) => m.counts);
      for (const c of [this.total, this.recent, ...marked]) {
        if (r.ok) c.byVersion[r.value.version] = (c.byVersion[r.value.version] ?? 0) + 1;
        else c.errors[r.codeName] = (c.errors[r.codeName] ?? 0) + 1;
      }
      // About 100 calls per second per loop: steady, and light on 2 cores.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
