// The sandbox kubelet: a controller against the API server (through client-node, like any other)
// that registers sandbox Nodes, schedules unassigned pods onto them (pods/binding), runs each pod's
// containers as local processes on a loopback address of its own, and reports pod status.
import { CoreV1Api, PatchStrategy, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { JsonObject } from '../apiserver/types.js';
import { PodWorker } from './pod-worker.js';
import type { Program } from './programs.js';
import { sandboxPrograms } from './programs.js';
import { podStatus } from './status.js';

export interface KubeletOptions {
  kc: KubeConfig;
  /** Number of sandbox nodes (sandbox-node-0 ...); DaemonSets get one pod per node. Default 1. */
  nodes?: number;
  nodePrefix?: string;
  programs?: readonly Program[];
  /** Crash back-off: first delay and cap (kube: 10 s, 300 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Called with the pods that run on these nodes whenever one of them changes (e.g. scrape targets). */
  onPodsChanged?: (pods: V1Pod[]) => void;
}

export interface Kubelet {
  nodeNames: string[];
  /** The worker of a running pod (tests read container logs through it). */
  worker(namespace: string, name: string): PodWorker | undefined;
  /** Number of container processes alive now. */
  processCount(): number;
  stop(): Promise<void>;
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const key = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;

/** Hands out one loopback address per pod: 127.<node+1>.x.y (never 127.0.0.1). */
class LoopbackIps {
  private next = 1;
  private readonly used = new Set<string>();
  constructor(private readonly second: number) {}

  take(): string {
    for (let i = 0; i < 65_534; i++) {
      const n = this.next;
      this.next = this.next >= 65_534 ? 1 : this.next + 1;
      const ip = `127.${this.second}.${Math.floor(n / 256)}.${n % 256}`;
      if (n % 256 !== 0 && n % 256 !== 255 && !this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
    throw new Error('no free loopback address left for pods');
  }

  release(ip: string | undefined): void {
    if (ip) this.used.delete(ip);
  }
}

export async function startKubelet(opts: KubeletOptions): Promise<Kubelet> {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const count = opts.nodes ?? 1;
  const prefix = opts.nodePrefix ?? 'sandbox-node';
  const nodeNames = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const ips = new Map(nodeNames.map((n, i) => [n, new LoopbackIps(1 + i)]));
  const workers = new Map<string, PodWorker>();
  const terminating = new Set<string>();
  const dirty = new Set<string>();
  const pods = new Map<string, V1Pod>();
  let stopped = false;
  let flushScheduled = false;

  for (const name of nodeNames) await registerNode(core, name);

  const lookupKey = async (
    kind: 'ConfigMap' | 'Secret',
    namespace: string,
    name: string,
    k: string,
  ): Promise<string | undefined> => {
    try {
      if (kind === 'ConfigMap') return (await core.readNamespacedConfigMap({ name, namespace })).data?.[k];
      const data = (await core.readNamespacedSecret({ name, namespace })).data?.[k];
      return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
    } catch {
      return undefined;
    }
  };

  const notifyPods = (): void => {
    if (!opts.onPodsChanged) return;
    opts.onPodsChanged([...pods.values()].filter((p) => nodeNames.includes(p.spec?.nodeName ?? '')));
  };

  /** Status writes of one event-loop turn go out together, one merge patch per changed pod. */
  const flush = async (): Promise<void> => {
    flushScheduled = false;
    const batch = [...dirty];
    dirty.clear();
    await Promise.all(
      batch.map(async (k) => {
        const w = workers.get(k);
        if (!w || stopped) return;
        const status = podStatus(w.view(), new Date());
        try {
          await core.patchNamespacedPodStatus(
            { name: w.name, namespace: w.namespace, body: { status } },
            merge,
          );
        } catch (e) {
          if ((e as { code?: number }).code !== 404) dirty.add(k);
        }
      }),
    );
    if (dirty.size > 0 && !stopped) setTimeout(() => schedule(), 200);
  };
  const schedule = (): void => {
    if (flushScheduled || stopped) return;
    flushScheduled = true;
    setImmediate(() => void flush());
  };

  const nodeLoad = (): Map<string, number> => {
    const load = new Map(nodeNames.map((n) => [n, 0]));
    for (const p of pods.values()) {
      const n = p.spec?.nodeName;
      if (n && load.has(n)) load.set(n, (load.get(n) ?? 0) + 1);
    }
    return load;
  };

  const bind = async (pod: V1Pod): Promise<void> => {
    const load = nodeLoad();
    const node = [...load.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]?.[0];
    if (!node) return;
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    try {
      await core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
      });
    } catch {
      // Already bound or gone: the next pod event says which.
    }
  };

  const terminate = async (pod: V1Pod, k: string): Promise<void> => {
    if (terminating.has(k)) return;
    terminating.add(k);
    const w = workers.get(k);
    const graceMs = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    if (w) {
      await w.stop(graceMs);
      dirty.add(k);
      await flush();
    }
    try {
      await core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? 'default',
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } },
      });
    } catch {
      // Already gone.
    }
  };

  const remove = (k: string): void => {
    const w = workers.get(k);
    if (w) {
      w.killNow();
      ips.get(w.pod.spec?.nodeName ?? '')?.release(w.podIP);
      workers.delete(k);
    }
    terminating.delete(k);
  };

  const reconcile = (pod: V1Pod): void => {
    if (stopped) return;
    const k = key(pod.metadata?.namespace, pod.metadata?.name);
    const existing = workers.get(k);
    if (existing && existing.pod.metadata?.uid !== pod.metadata?.uid) remove(k);
    pods.set(k, pod);
    const node = pod.spec?.nodeName;
    if (!node) {
      if (!pod.metadata?.deletionTimestamp) void bind(pod);
      return;
    }
    if (!nodeNames.includes(node)) return;
    if (pod.metadata?.deletionTimestamp) {
      void terminate(pod, k);
      return;
    }
    const phase = pod.status?.phase;
    let w = workers.get(k);
    if (!w) {
      if (phase === 'Succeeded' || phase === 'Failed') return;
      w = new PodWorker(pod, ips.get(node)?.take(), '127.0.0.1', {
        programs: opts.programs ?? sandboxPrograms,
        backoffBaseMs: opts.backoffBaseMs ?? 10_000,
        backoffMaxMs: opts.backoffMaxMs ?? 300_000,
        lookupKey,
        onChange: () => {
          dirty.add(k);
          schedule();
        },
      });
      workers.set(k, w);
      w.start();
      dirty.add(k);
      schedule();
    } else {
      w.pod = pod;
      // A status written by someone else (or lost) is rewritten from what really runs.
      const want = podStatus(w.view(), new Date());
      if (want.phase !== pod.status?.phase || (want.podIP ?? '') !== (pod.status?.podIP ?? '')) {
        dirty.add(k);
        schedule();
      }
    }
  };

  const informer = makeInformer(opts.kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  informer.on('add', (p) => {
    reconcile(p);
    notifyPods();
  });
  informer.on('update', (p) => {
    reconcile(p);
    notifyPods();
  });
  informer.on('delete', (p) => {
    const k = key(p.metadata?.namespace, p.metadata?.name);
    pods.delete(k);
    if (workers.get(k)?.pod.metadata?.uid === p.metadata?.uid) remove(k);
    notifyPods();
  });
  // client-node's informer stops on a failed watch: start it again after a pause (it relists).
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
  });
  await informer.start();

  const killAll = (): void => {
    for (const w of workers.values()) w.killNow();
  };
  process.once('exit', killAll);

  return {
    nodeNames,
    worker: (namespace, name) => workers.get(key(namespace, name)),
    processCount: () =>
      [...workers.values()].reduce(
        (n, w) => n + w.containers.filter((c) => c.view.runningSince && c.program).length,
        0,
      ),
    stop: async () => {
      stopped = true;
      await informer.stop();
      await Promise.all([...workers.values()].map((w) => w.stop(2000)));
      workers.clear();
      process.off('exit', killAll);
    },
  };
}

async function registerNode(core: CoreV1Api, name: string): Promise<void> {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const status: JsonObject = {
    capacity: { cpu: '2', memory: '8Gi', pods: '500' },
    allocatable: { cpu: '2', memory: '8Gi', pods: '500' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: name },
    ],
    nodeInfo: {
      machineID: name,
      systemUUID: name,
      bootID: name,
      kernelVersion: process.version,
      osImage: 'fledge sandbox',
      containerRuntimeVersion: 'sandbox://processes',
      kubeletVersion: 'v1.26.1',
      kubeProxyVersion: 'v1.26.1',
      operatingSystem: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
  try {
    await core.readNode({ name });
  } catch {
    await core.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
      },
    });
  }
  await core.patchNodeStatus({ name, body: { status } }, merge);
}
