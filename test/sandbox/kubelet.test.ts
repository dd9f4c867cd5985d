// The sandbox kubelet end to end: Deployments of the demo app become running processes that answer
// HTTP and gRPC on their EndpointSlice addresses; rollouts, readiness, crashes, scale-down, DaemonSets.
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kubelet } from '../../sandbox/kubelet/kubelet.js';
import { startKubelet } from '../../sandbox/kubelet/kubelet.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'kubelet';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface EchoClient extends grpc.Client {
  Echo(
    req: { message: string },
    cb: (err: grpc.ServiceError | null, res?: { version: string; pod: string }) => void,
  ): void;
}

function echoClient(address: string): EchoClient {
  const def = protoLoader.loadSync(path.join(root, 'sandbox', 'demo-app', 'demo.proto'), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    fledge: { demo: { v1: { Demo: new (addr: string, creds: grpc.ChannelCredentials) => EchoClient } } };
  };
  return new pkg.fledge.demo.v1.Demo(address, grpc.credentials.createInsecure());
}

function deployment(
  name: string,
  image: string,
  opts: Partial<{
    replicas: number;
    env: Record<string, string>;
    readiness: boolean;
    progressDeadlineSeconds: number;
  }> = {},
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 2,
      ...(opts.progressDeadlineSeconds ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'app',
              image,
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'grpc', containerPort: 9090 },
              ],
              env: Object.entries(opts.env ?? {}).map(([n, value]) => ({ name: n, value })),
              ...(opts.readiness === false
                ? {}
                : {
                    readinessProbe: {
                      httpGet: { path: '/readyz', port: 'http' },
                      periodSeconds: 1,
                      failureThreshold: 1,
                    },
                  }),
            },
          ],
        },
      },
    },
  };
}

describe('sandbox kubelet', () => {
  let cluster: TestCluster;
  let kubelet: Kubelet;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const pids = new Set<number>();

  const podsOf = async (app: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );

  const recordPids = (pods: V1Pod[]): void => {
    for (const p of pods) {
      for (const c of p.status?.containerStatuses ?? []) {
        const m = /^sandbox:\/\/(\d+)$/.exec(c.containerID ?? '');
        if (m && Number(m[1]) > 0) pids.add(Number(m[1]));
      }
    }
  };

  beforeAll(async () => {
    cluster = await startTestCluster();
    core = cluster.kc.makeApiClient(CoreV1Api);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    kubelet = await startKubelet({ kc: cluster.kc, nodes: 2, backoffBaseMs: 200, backoffMaxMs: 2000 });
  });

  afterAll(async () => {
    await kubelet?.stop();
    await cluster?.close();
    // No container process outlives the test run.
    const alive = [...pids].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });

  it('runs virtual pods for images that are not sandbox programs, and says so', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('virt', 'nginx:1.25', { replicas: 3, readiness: false }),
    });
    const pods = await waitFor(
      async () => {
        const ps = await podsOf('virt');
        return ps.length === 3 &&
          ps.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          ? ps
          : undefined;
      },
      { what: 'three ready virtual pods' },
    );
    for (const p of pods) {
      expect(p.status?.podIP).toMatch(/^127\.[12]\.\d+\.\d+$/);
      expect(p.status?.message).toContain('"nginx:1.25" is not a sandbox program');
      expect(kubelet.nodeNames).toContain(p.spec?.nodeName);
    }
    await waitFor(
      async () =>
        (await apps.readNamespacedDeployment({ name: 'virt', namespace: NS })).status?.readyReplicas === 3,
      {
        what: 'readyReplicas 3',
      },
    );
  });

  it('runs demo-app pods as processes that answer HTTP and gRPC on their EndpointSlice addresses', async () => {
    await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'demo' },
        spec: {
          selector: { app: 'demo' },
          ports: [
            { name: 'http', port: 80, targetPort: 'http' },
            { name: 'grpc', port: 9090, targetPort: 'grpc' },
          ],
        },
      },
    });
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('demo', 'fledge/demo-app:v1') });
    const discovery = cluster.kc.makeApiClient(DiscoveryV1Api);
    const endpoints = await waitFor(
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({
          namespace: NS,
          labelSelector: 'kubernetes.io/service-name=demo',
        });
        const eps = slices.items.flatMap((s) =>
          (s.endpoints ?? [])
            .filter((e) => e.conditions?.ready)
            .map((e) => ({ ip: e.addresses[0] ?? '', ports: s.ports ?? [] })),
        );
        return eps.length === 2 ? eps : undefined;
      },
      { timeoutMs: 20_000, what: 'two ready endpoints' },
    );
    recordPids(await podsOf('demo'));
    for (const ep of endpoints) {
      const httpPort = ep.ports.find((p) => p.name === 'http')?.port;
      const res = await fetch(`http://${ep.ip}:${httpPort ?? 0}/`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { version: string }).version).toBe('v1');
      const grpcPort = ep.ports.find((p) => p.name === 'grpc')?.port;
      const client = echoClient(`${ep.ip}:${grpcPort ?? 0}`);
      const reply = await new Promise<{ version: string }>((resolve, reject) =>
        client.Echo({ message: 'hi' }, (err, r) =>
          err || !r ? reject(err ?? new Error('no reply')) : resolve(r),
        ),
      );
      client.close();
      expect(reply.version).toBe('v1');
    }
  });

  it('rolls the processes over when the image version changes', async () => {
    const before = (await podsOf('demo')).map((p) => p.status?.podIP ?? '');
    await apps.patchNamespacedDeployment(
      {
        name: 'demo',
        namespace: NS,
        body: {
          spec: { template: { spec: { containers: [{ name: 'app', image: 'fledge/demo-app:v2' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const after = await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'demo', namespace: NS });
        const ps = await podsOf('demo');
        const done =
          d.status?.updatedReplicas === 2 &&
          d.status.readyReplicas === 2 &&
          d.status.replicas === 2 &&
          ps.length === 2;
        return done && ps.every((p) => p.spec?.containers[0]?.image === 'fledge/demo-app:v2')
          ? ps
          : undefined;
      },
      { timeoutMs: 30_000, what: 'the rollout to v2' },
    );
    recordPids(after);
    for (const p of after) {
      const res = await fetch(`http://${p.status?.podIP ?? ''}:8080/`);
      expect(((await res.json()) as { version: string }).version).toBe('v2');
    }
    // The v1 processes are gone: their addresses no longer answer.
    for (const ip of before.filter((ip) => !after.some((p) => p.status?.podIP === ip))) {
      await expect(fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    }
  });

  it('keeps a pod unready while its readiness probe fails, and the Deployment says so', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('unready', 'fledge/demo-app:v1', {
        replicas: 1,
        env: { READY: 'false' },
        progressDeadlineSeconds: 3,
      }),
    });
    const pod = await waitFor(
      async () => (await podsOf('unready')).find((p) => p.status?.containerStatuses?.[0]?.state?.running),
      {
        timeoutMs: 15_000,
        what: 'the unready pod to run',
      },
    );
    recordPids([pod]);
    const d = await waitFor(
      async () => {
        const dep = await apps.readNamespacedDeployment({ name: 'unready', namespace: NS });
        return dep.status?.conditions?.some(
          (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
        )
          ? dep
          : undefined;
      },
      { timeoutMs: 20_000, what: 'ProgressDeadlineExceeded' },
    );
    expect(d.status?.readyReplicas ?? 0).toBe(0);
    const current = (await podsOf('unready'))[0];
    expect(current?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('restarts a crashing container with back-off, never in a busy loop', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('crash', 'fledge/demo-app:v1', {
        replicas: 1,
        env: { FAIL_START: 'true' },
        readiness: false,
      }),
    });
    const pod = await waitFor(
      async () =>
        (await podsOf('crash')).find((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2),
      { timeoutMs: 20_000, what: 'two restarts' },
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.lastState?.terminated?.exitCode).toBe(1);
    // Back-off 200 ms, 400 ms, 800 ms, ...: within 3 s at most a handful of restarts.
    const restarts = status?.restartCount ?? 0;
    expect(restarts).toBeLessThanOrEqual(6);
    const waiting = await waitFor(
      async () => (await podsOf('crash'))[0]?.status?.containerStatuses?.[0]?.state?.waiting,
      { what: 'the CrashLoopBackOff state' },
    );
    expect(waiting.reason).toBe('CrashLoopBackOff');
  });

  it('reports an invalid probe as a pod condition', async () => {
    const body = deployment('badprobe', 'nginx:1.25', { replicas: 1, readiness: false });
    const container = body.spec?.template.spec?.containers[0];
    if (container) container.readinessProbe = { httpGet: { path: '/', port: 'nope' } };
    await apps.createNamespacedDeployment({ namespace: NS, body });
    const ready = await waitFor(
      async () =>
        (await podsOf('badprobe'))[0]?.status?.conditions?.find(
          (c) => c.type === 'Ready' && c.reason === 'InvalidProbe',
        ),
      { what: 'the InvalidProbe condition' },
    );
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('port "nope" names no port of container "app"');
  });

  it('runs one DaemonSet pod on every sandbox node', async () => {
    await apps.createNamespacedDaemonSet({
      namespace: NS,
      body: {
        metadata: { name: 'agent' },
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: {
            metadata: { labels: { app: 'agent' } },
            spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1' }] },
          },
        },
      },
    });
    const ds = await waitFor(
      async () => {
        const d = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: NS });
        return d.status?.numberReady === 2 ? d : undefined;
      },
      { what: 'the DaemonSet on both nodes' },
    );
    expect(ds.status?.desiredNumberScheduled).toBe(2);
    const nodes = (await podsOf('agent')).map((p) => p.spec?.nodeName).sort();
    expect(nodes).toEqual([...kubelet.nodeNames].sort());
  });

  it('removes the pods of a deleted Deployment (garbage collection through its ReplicaSet)', async () => {
    expect((await podsOf('virt')).length).toBe(3);
    await apps.deleteNamespacedDeployment({ name: 'virt', namespace: NS });
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=virt' })).items.length === 0,
      {
        timeoutMs: 15_000,
        what: 'the pods of the deleted Deployment to go',
      },
    );
    const rs = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=virt' });
    expect(rs.items).toEqual([]);
  });

  it('stops the processes when scaled to zero', async () => {
    await apps.patchNamespacedDeployment(
      { name: 'demo', namespace: NS, body: { spec: { replicas: 0 } } },
      merge,
    );
    await apps.patchNamespacedDeployment(
      { name: 'unready', namespace: NS, body: { spec: { replicas: 0 } } },
      merge,
    );
    await apps.patchNamespacedDeployment(
      { name: 'crash', namespace: NS, body: { spec: { replicas: 0 } } },
      merge,
    );
    await waitFor(async () => (await podsOf('demo')).length === 0 && kubelet.processCount() === 0, {
      timeoutMs: 20_000,
      what: 'all demo-app processes to stop',
    });
  });
});
