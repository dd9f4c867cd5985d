// The sandbox's DaemonSet controller: table tests of the pure planner (placement, rolling updates, OnDelete,
// status), then the controller running in-process against the Api with a fake kubelet.
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../sandbox/apiserver/api.js';
import type { DaemonSetPlan } from '../../sandbox/apiserver/controllers/daemonset.js';
import {
  nodePlacement,
  planDaemonSet,
  REVISION_HASH_LABEL,
  TEMPLATE_GENERATION_LABEL,
} from '../../sandbox/apiserver/controllers/daemonset.js';
import { podTemplateHash } from '../../sandbox/apiserver/controllers/template-hash.js';
import { startWorkloadControllers } from '../../sandbox/apiserver/controllers/workloads.js';
import { Registry } from '../../sandbox/apiserver/registry.js';
import { Store } from '../../sandbox/apiserver/store.js';
import type { JsonObject, ResourceType } from '../../sandbox/apiserver/types.js';
import { clone } from '../../sandbox/apiserver/types.js';
import { waitFor } from '../helpers/wait-for.js';

const T0 = Date.parse('2026-11-21T13:43:37Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const NS = 'fixtures';
const NAME_RE = /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

const meta = (o: JsonObject): JsonObject => o.metadata as JsonObject;
const spec = (o: JsonObject): JsonObject => o.spec as JsonObject;
const status = (o: JsonObject): JsonObject => (o.status ?? {}) as JsonObject;
const labels = (o: JsonObject): Record<string, string> => (meta(o).labels ?? {}) as Record<string, string>;
const nodeOf = (p: JsonObject): string => spec(p).nodeName as string;
const imageOf = (p: JsonObject): string =>
  ((spec(p).containers as JsonObject[])[0] as JsonObject).image as string;

function node(
  name: string,
  over: { labels?: Record<string, string>; unschedulable?: boolean; deleting?: boolean } = {},
): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: over.labels ?? { 'kubernetes.io/hostname': name },
      ...(over.deleting ? { deletionTimestamp: iso(T0), finalizers: ['example.com/hold'] } : {}),
    },
    spec: over.unschedulable ? { unschedulable: true } : {},
  };
}

function template(image: string, podSpec: JsonObject = {}): JsonObject {
  return {
    metadata: { labels: { app: 'agent' } },
    spec: { containers: [{ name: 'agent', image }], restartPolicy: 'Always', ...podSpec },
  };
}

interface DsOptions {
  image?: string;
  generation?: number;
  podSpec?: JsonObject;
  updateStrategy?: JsonObject;
  minReadySeconds?: number;
  deleting?: boolean;
}

function daemonSet(over: DsOptions = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'agent',
      namespace: NS,
      uid: 'ds-uid',
      resourceVersion: '5',
      generation: over.generation ?? 1,
      creationTimestamp: iso(T0),
      ...(over.deleting ? { deletionTimestamp: iso(T0), finalizers: ['foregroundDeletion'] } : {}),
    },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: template(over.image ?? 'agent:1', over.podSpec),
      updateStrategy: over.updateStrategy ?? {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
      },
      ...(over.minReadySeconds !== undefined ? { minReadySeconds: over.minReadySeconds } : {}),
      revisionHistoryLimit: 10,
    },
    status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  };
}

/** A new DaemonSet revision: another image, one generation on. */
const rolled = (ds: JsonObject, image: string): JsonObject => {
  const next = clone(ds);
  meta(next).generation = (meta(ds).generation as number) + 1;
  const podSpec = spec(spec(next).template as JsonObject);
  podSpec.containers = [{ name: 'agent', image }];
  return next;
};

const nodeNames = (pods: JsonObject[]): string[] => pods.map(nodeOf).sort();

/**
 * A tiny cluster for the pure planner: applies a plan as the API server would (deletions are immediate),
 * and plays kubelet through ready().
 */
class Sim {
  pods: JsonObject[] = [];
  clockMs = T0;
  private created = 0;

  constructor(
    public ds: JsonObject,
    public nodes: JsonObject[],
  ) {}

  step(): DaemonSetPlan {
    const plan = planDaemonSet({
      daemonSet: this.ds,
      nodes: this.nodes,
      pods: this.pods,
      nowMs: this.clockMs,
    });
    const gone = new Set(plan.remove.map((p) => meta(p).uid));
    this.pods = this.pods.filter((p) => !gone.has(meta(p).uid));
    for (const p of plan.create) this.pods.push(this.materialize(p));
    if (plan.status) this.ds = { ...this.ds, status: plan.status };
    return plan;
  }

  /** Stores a pod the way the API server would: a name, a uid, a creation time, Pending. */
  materialize(p: JsonObject): JsonObject {
    const n = ++this.created;
    const pod = clone(p);
    Object.assign(meta(pod), {
      name: `${meta(pod).generateName as string}p${String(n).padStart(4, '0')}`,
      uid: `pod-uid-${n}`,
      creationTimestamp: iso(this.clockMs),
    });
    pod.status = { phase: 'Pending' };
    return pod;
  }

  /** Marks every Pending pod Running and Ready now. */
  ready(): void {
    this.pods = this.pods.map((p) => (status(p).phase === 'Pending' ? readyPod(p, this.clockMs) : p));
  }
}

const readyPod = (p: JsonObject, atMs: number): JsonObject => ({
  ...p,
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(atMs) }],
  },
});

/** A ready daemon pod of `ds` on `nodeName`, as if created earlier. */
function podOn(sim: Sim, nodeName: string, ds = sim.ds): JsonObject {
  const created = planDaemonSet({ daemonSet: ds, nodes: [node(nodeName)], pods: [], nowMs: T0 }).create[0];
  if (!created) throw new Error('no pod planned');
  return readyPod(sim.materialize(created), T0 - 60_000);
}

const summary = (plan: DaemonSetPlan): { create: string[]; remove: string[] } => ({
  create: nodeNames(plan.create),
  remove: nodeNames(plan.remove),
});

describe('DaemonSet planner: placement', () => {
  it('creates one pod per Node on a new DaemonSet, bound to it, labelled and owned', () => {
    const ds = daemonSet();
    const plan = planDaemonSet({
      daemonSet: ds,
      nodes: ['node-c', 'node-a', 'node-b'].map((n) => node(n)),
      pods: [],
      nowMs: T0,
    });
    expect(summary(plan)).toEqual({ create: ['node-a', 'node-b', 'node-c'], remove: [] });
    const hash = podTemplateHash(spec(ds).template as JsonObject);
    const [pod] = plan.create;
    expect(meta(pod as JsonObject)).toEqual({
      generateName: 'agent-',
      namespace: NS,
      labels: { app: 'agent', [REVISION_HASH_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: '1' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          name: 'agent',
          uid: 'ds-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(spec(pod as JsonObject)).toMatchObject({
      nodeName: 'node-a',
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] },
            ],
          },
        },
      },
    });
    expect(spec(pod as JsonObject).tolerations).toContainEqual({
      key: 'node.kubernetes.io/unschedulable',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(plan.status).toEqual({
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 0,
      observedGeneration: 1,
      numberUnavailable: 3,
    });
  });

  it('adds one pod for a Node added later and nothing once every Node has one', () => {
    const sim = new Sim(daemonSet(), [node('node-a'), node('node-b')]);
    expect(summary(sim.step())).toEqual({ create: ['node-a', 'node-b'], remove: [] });
    sim.ready();
    expect(summary(sim.step())).toEqual({ create: [], remove: [] });
    sim.nodes = [...sim.nodes, node('node-c')];
    expect(summary(sim.step())).toEqual({ create: ['node-c'], remove: [] });
    sim.ready();
    expect(summary(sim.step())).toEqual({ create: [], remove: [] });
    expect(sim.ds.status).toEqual({
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 3,
      observedGeneration: 1,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    });
  });

  it.each([
    ['cordoned (spec.unschedulable)', node('n', { unschedulable: true }), daemonSet()],
    ['being deleted', node('n', { deleting: true }), daemonSet()],
    [
      'not matching the nodeSelector',
      node('n', { labels: { role: 'control' } }),
      daemonSet({ podSpec: { nodeSelector: { role: 'worker' } } }),
    ],
    [
      'not matching the required node affinity',
      node('n', { labels: { zone: 'b' } }),
      daemonSet({
        podSpec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
              },
            },
          },
        },
      }),
    ],
    ['not the template nodeName', node('n'), daemonSet({ podSpec: { nodeName: 'other' } })],
  ])('creates no pod on a Node %s', (_why, n, ds) => {
    const plan = planDaemonSet({ daemonSet: ds, nodes: [n], pods: [], nowMs: T0 });
    expect(plan.create).toEqual([]);
    expect(status({ status: plan.status ?? {} }).desiredNumberScheduled).toBe(0);
  });

  it('keeps the pod of a cordoned Node (misscheduled) but deletes one whose Node stops matching', () => {
    const ds = daemonSet({ podSpec: { nodeSelector: { role: 'worker' } } });
    const worker = { labels: { role: 'worker' } };
    const sim = new Sim(ds, [node('node-a', worker), node('node-b', worker)]);
    sim.step();
    sim.ready();
    sim.nodes = [node('node-a', { ...worker, unschedulable: true }), node('node-b', { labels: {} })];
    const plan = sim.step();
    expect(summary(plan)).toEqual({ create: [], remove: ['node-b'] });
    expect(plan.status).toMatchObject({
      currentNumberScheduled: 0,
      numberMisscheduled: 2,
      desiredNumberScheduled: 0,
    });
    expect(nodePlacement(ds, sim.nodes[0])).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(nodePlacement(ds, sim.nodes[1])).toEqual({ shouldRun: false, shouldContinueRunning: false });
  });

  it('deletes extra and misplaced pods, adopts matching orphans, releases pods that stopped matching', () => {
    const sim = new Sim(daemonSet({ updateStrategy: { type: 'OnDelete' } }), [
      node('node-a'),
      node('node-b'),
    ]);
    const older = podOn(sim, 'node-a');
    meta(older).creationTimestamp = iso(T0 - 120_000);
    const newer = podOn(sim, 'node-a');
    const orphan = podOn(sim, 'node-b');
    delete meta(orphan).ownerReferences;
    const onGoneNode = podOn(sim, 'node-gone');
    const stray = podOn(sim, 'node-b');
    meta(stray).labels = { app: 'something-else' };
    const failed = { ...podOn(sim, 'node-c'), status: { phase: 'Failed' } };
    sim.nodes = [...sim.nodes, node('node-c')];
    const plan = planDaemonSet({
      daemonSet: sim.ds,
      nodes: sim.nodes,
      pods: [older, newer, orphan, onGoneNode, stray, failed],
      nowMs: T0,
    });
    expect(plan.adopt).toEqual([orphan]);
    expect(plan.release).toEqual([stray]);
    expect(plan.remove.map((p) => meta(p).name)).toEqual([
      meta(newer).name,
      meta(failed).name,
      meta(onGoneNode).name,
    ]);
    // node-c gets its replacement once the failed pod is gone.
    expect(plan.create).toEqual([]);
    expect(plan.status).toMatchObject({ currentNumberScheduled: 3, desiredNumberScheduled: 3 });
  });

  it('plans nothing, not even status, for a DaemonSet being deleted', () => {
    const plan = planDaemonSet({
      daemonSet: daemonSet({ deleting: true }),
      nodes: [node('a')],
      pods: [],
      nowMs: T0,
    });
    expect(plan).toEqual({ adopt: [], release: [], create: [], remove: [] });
  });
});

describe('DaemonSet planner: updates', () => {
  /** Runs the planner until it has nothing to do, readying new pods between syncs. */
  function rollOut(
    sim: Sim,
    onStep: (sim: Sim) => void = () => undefined,
  ): { create: string[]; remove: string[] }[] {
    const steps: { create: string[]; remove: string[] }[] = [];
    for (let i = 0; i < 20; i++) {
      const s = summary(sim.step());
      onStep(sim);
      if (s.create.length === 0 && s.remove.length === 0) return steps;
      steps.push(s);
      sim.ready();
    }
    throw new Error('the rollout did not finish');
  }

  const unavailableNodes = (sim: Sim): number =>
    sim.nodes.filter(
      (n) => !sim.pods.some((p) => nodeOf(p) === meta(n).name && status(p).phase === 'Running'),
    ).length;

  it('RollingUpdate with maxUnavailable 1 replaces one old pod at a time, node by node', () => {
    const sim = new Sim(
      daemonSet(),
      ['node-a', 'node-b', 'node-c'].map((n) => node(n)),
    );
    rollOut(sim);
    sim.ds = rolled(sim.ds, 'agent:2');
    let worst = 0;
    const steps = rollOut(sim, (s) => (worst = Math.max(worst, unavailableNodes(s))));
    expect(steps).toEqual([
      { create: [], remove: ['node-a'] },
      { create: ['node-a'], remove: [] },
      { create: [], remove: ['node-b'] },
      { create: ['node-b'], remove: [] },
      { create: [], remove: ['node-c'] },
      { create: ['node-c'], remove: [] },
    ]);
    expect(worst).toBe(1);
    expect(sim.pods.map(imageOf)).toEqual(['agent:2', 'agent:2', 'agent:2']);
    expect(sim.pods.map((p) => labels(p)[TEMPLATE_GENERATION_LABEL])).toEqual(['2', '2', '2']);
    expect(sim.ds.status).toMatchObject({
      observedGeneration: 2,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    });
  });

  it('RollingUpdate with maxUnavailable 50% of 4 Nodes replaces two at a time', () => {
    const sim = new Sim(
      daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } } }),
      ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => node(n)),
    );
    rollOut(sim);
    sim.ds = rolled(sim.ds, 'agent:2');
    expect(rollOut(sim)).toEqual([
      { create: [], remove: ['node-a', 'node-b'] },
      { create: ['node-a', 'node-b'], remove: [] },
      { create: [], remove: ['node-c', 'node-d'] },
      { create: ['node-c', 'node-d'], remove: [] },
    ]);
  });

  it('RollingUpdate waits minReadySeconds before the next replacement and says when to look again', () => {
    const sim = new Sim(
      daemonSet({ minReadySeconds: 10 }),
      ['node-a', 'node-b'].map((n) => node(n)),
    );
    sim.pods = [podOn(sim, 'node-a'), podOn(sim, 'node-b')];
    sim.ds = rolled(sim.ds, 'agent:2');
    expect(summary(sim.step())).toEqual({ create: [], remove: ['node-a'] });
    expect(summary(sim.step())).toEqual({ create: ['node-a'], remove: [] });
    sim.ready();
    sim.clockMs += 4_000;
    const waiting = sim.step();
    expect(summary(waiting)).toEqual({ create: [], remove: [] });
    expect(waiting.requeueAfterMs).toBe(6_001);
    expect(waiting.status).toMatchObject({ numberReady: 2, numberAvailable: 1, numberUnavailable: 1 });
    sim.clockMs += 6_001;
    expect(summary(sim.step())).toEqual({ create: [], remove: ['node-b'] });
  });

  it('maxSurge 1 starts the new pod beside the old one and deletes the old one once available', () => {
    const sim = new Sim(
      daemonSet({
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      }),
      ['node-a', 'node-b'].map((n) => node(n)),
    );
    rollOut(sim);
    sim.ds = rolled(sim.ds, 'agent:2');
    let worst = 0;
    const steps = rollOut(sim, (s) => (worst = Math.max(worst, unavailableNodes(s))));
    expect(steps).toEqual([
      { create: ['node-a'], remove: [] },
      { create: ['node-b'], remove: ['node-a'] },
      { create: [], remove: ['node-b'] },
    ]);
    expect(worst).toBe(0);
    expect(sim.pods.map(imageOf)).toEqual(['agent:2', 'agent:2']);
  });

  it('OnDelete leaves old pods alone and gives a deleted pod the new template', () => {
    const sim = new Sim(
      daemonSet({ updateStrategy: { type: 'OnDelete' } }),
      ['node-a', 'node-b'].map((n) => node(n)),
    );
    rollOut(sim);
    sim.ds = rolled(sim.ds, 'agent:2');
    const idle = sim.step();
    expect(summary(idle)).toEqual({ create: [], remove: [] });
    expect(idle.status).toEqual({
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      desiredNumberScheduled: 2,
      numberReady: 2,
      observedGeneration: 2,
      numberAvailable: 2,
    });
    sim.pods = sim.pods.filter((p) => nodeOf(p) !== 'node-b');
    const plan = sim.step();
    expect(summary(plan)).toEqual({ create: ['node-b'], remove: [] });
    expect(imageOf(plan.create[0] as JsonObject)).toBe('agent:2');
    expect(labels(plan.create[0] as JsonObject)[TEMPLATE_GENERATION_LABEL]).toBe('2');
    sim.ready();
    expect(sim.step().status).toMatchObject({ updatedNumberScheduled: 1 });
  });
});

describe('DaemonSet planner: status', () => {
  it('counts per Node, oldest live pod first; terminating pods and unknown Nodes count for nothing', () => {
    const sim = new Sim(daemonSet({ updateStrategy: { type: 'OnDelete' }, generation: 2 }), [
      node('node-a'),
      node('node-b'),
      node('node-c'),
      node('node-d', { unschedulable: true }),
      node('node-e'),
    ]);
    const old = daemonSet({ updateStrategy: { type: 'OnDelete' }, image: 'agent:0' });
    const updatedReady = podOn(sim, 'node-a');
    const oldNotReady = { ...podOn(sim, 'node-b', old), status: { phase: 'Pending' } };
    const terminating = podOn(sim, 'node-c');
    meta(terminating).deletionTimestamp = iso(T0 + 30_000);
    const onCordoned = podOn(sim, 'node-d');
    const onUnknown = podOn(sim, 'node-gone');
    const plan = planDaemonSet({
      daemonSet: sim.ds,
      nodes: sim.nodes,
      pods: [updatedReady, oldNotReady, terminating, onCordoned, onUnknown],
      nowMs: T0,
    });
    expect(plan.status).toEqual({
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      desiredNumberScheduled: 4,
      numberReady: 1,
      observedGeneration: 2,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberUnavailable: 3,
    });
    // Key order as kube serialises DaemonSetStatus.
    expect(Object.keys(plan.status ?? {})).toEqual([
      'currentNumberScheduled',
      'numberMisscheduled',
      'desiredNumberScheduled',
      'numberReady',
      'observedGeneration',
      'updatedNumberScheduled',
      'numberAvailable',
      'numberUnavailable',
    ]);
    // node-c waits for its terminating pod; node-e gets one; the pod on the vanished Node goes.
    expect(summary(plan)).toEqual({ create: ['node-e'], remove: ['node-gone'] });
  });

  it('keeps collisionCount and conditions from the current status', () => {
    const ds = daemonSet();
    ds.status = { ...status(ds), collisionCount: 2, conditions: [{ type: 'Example', status: 'True' }] };
    const plan = planDaemonSet({ daemonSet: ds, nodes: [], pods: [], nowMs: T0 });
    expect(plan.status).toEqual({
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
      observedGeneration: 1,
      collisionCount: 2,
      conditions: [{ type: 'Example', status: 'True' }],
    });
  });
});

// ------------------------------------------------------------------------------- in-process

type Result<T> = { ok: true; value: T } | { ok: false; error: { message: string } };
function must<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function startCluster(workers: string[]) {
  const api = new Api(new Store(), new Registry());
  const type = (group: string, version: string, resource: string): ResourceType => {
    const t = api.registry.lookup(group, version, resource);
    if (!t) throw new Error(`no ${resource}`);
    return t;
  };
  const T = {
    namespaces: type('', 'v1', 'namespaces'),
    serviceaccounts: type('', 'v1', 'serviceaccounts'),
    daemonsets: type('apps', 'v1', 'daemonsets'),
    pods: type('', 'v1', 'pods'),
    nodes: type('', 'v1', 'nodes'),
  };
  must(api.create(T.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));
  must(
    api.create(T.serviceaccounts, NS, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default' },
    }),
  );
  for (const name of workers)
    must(api.create(T.nodes, undefined, node(name, { labels: { role: 'worker' } })));
  must(api.create(T.nodes, undefined, node('control', { labels: { role: 'control' } })));
  const stops = [startWorkloadControllers(api), fakeKubelet(api, T.pods)];
  const livePods = (): JsonObject[] =>
    must(api.list(T.pods, NS, {})).items.filter((p) => meta(p).deletionTimestamp === undefined);
  const ds = (): JsonObject => must(api.get(T.daemonsets, NS, 'agent'));
  return { api, T, livePods, ds, stops, stop: () => stops.forEach((s) => s()) };
}

/** Plays kubelet: reports every pod Running and Ready, and finishes graceful deletions at once. */
function fakeKubelet(api: Api, pods: ResourceType): () => void {
  return api.store.subscribe('/pods', (e) => {
    if (e.type === 'DELETED') return;
    const name = meta(e.object).name as string;
    setImmediate(() => {
      const cur = api.store.get('/pods', NS, name);
      if (!cur) return;
      if (meta(cur).deletionTimestamp) {
        api.delete(pods, NS, name, { gracePeriodSeconds: 0 });
        return;
      }
      if (status(cur).phase === 'Running') return;
      const pod = clone(cur);
      pod.status = {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: iso(api.now()) },
        ],
      };
      api.putDirect(pods, pod);
    });
  });
}

const agentDaemonSet: JsonObject = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent' },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { nodeSelector: { role: 'worker' }, containers: [{ name: 'agent', image: 'agent:1' }] },
    },
  },
};

describe('DaemonSet controller in-process', () => {
  let c: ReturnType<typeof startCluster>;
  afterEach(() => c.stop());

  const converged = (desired: number, image: string) => () => {
    const s = status(c.ds());
    const pods = c.livePods();
    return (
      s.desiredNumberScheduled === desired &&
      s.numberAvailable === desired &&
      s.updatedNumberScheduled === desired &&
      s.currentNumberScheduled === desired &&
      s.numberUnavailable === undefined &&
      pods.length === desired &&
      pods.every((p) => imageOf(p) === image && status(p).phase === 'Running')
    );
  };

  it('runs one pod per worker Node and follows Nodes as they come, go and change labels', async () => {
    c = startCluster(['node-a', 'node-b', 'node-c']);
    const created = must(c.api.create(c.T.daemonsets, NS, agentDaemonSet)).object;
    await waitFor(converged(3, 'agent:1'), { timeoutMs: 5_000, what: 'three available pods' });
    const pods = c.livePods();
    expect(nodeNames(pods)).toEqual(['node-a', 'node-b', 'node-c']);
    const hash = podTemplateHash((spec(c.ds()).template as JsonObject) ?? {});
    for (const p of pods) {
      expect(meta(p).name).toMatch(NAME_RE);
      expect(labels(p)).toEqual({
        app: 'agent',
        [REVISION_HASH_LABEL]: hash,
        [TEMPLATE_GENERATION_LABEL]: '1',
      });
      expect(meta(p).ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          name: 'agent',
          uid: meta(created).uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    expect(status(c.ds())).toEqual({
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 3,
      observedGeneration: 1,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    });

    must(c.api.create(c.T.nodes, undefined, node('node-d', { labels: { role: 'worker' } })));
    await waitFor(converged(4, 'agent:1'), { timeoutMs: 5_000, what: 'a pod on the new Node' });
    expect(nodeNames(c.livePods())).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);

    must(
      c.api.patch(c.T.nodes, undefined, 'node-a', '', 'merge', { metadata: { labels: { role: 'control' } } }),
    );
    must(c.api.delete(c.T.nodes, undefined, 'node-b'));
    await waitFor(converged(2, 'agent:1'), { timeoutMs: 5_000, what: 'pods to leave node-a and node-b' });
    expect(nodeNames(c.livePods())).toEqual(['node-c', 'node-d']);
  });

  it('rolls a new template out node by node with at most one worker Node unavailable', async () => {
    c = startCluster(['node-a', 'node-b', 'node-c']);
    must(c.api.create(c.T.daemonsets, NS, agentDaemonSet));
    await waitFor(converged(3, 'agent:1'), { timeoutMs: 5_000, what: 'the first revision' });
    let worst = 0;
    c.stops.push(
      c.api.store.subscribe('/pods', () => {
        const live = c.livePods();
        const down = ['node-a', 'node-b', 'node-c'].filter(
          (n) => !live.some((p) => nodeOf(p) === n && status(p).phase === 'Running'),
        ).length;
        worst = Math.max(worst, down);
      }),
    );
    must(
      c.api.patch(c.T.daemonsets, NS, 'agent', '', 'merge', {
        spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } },
      }),
    );
    await waitFor(converged(3, 'agent:2'), { timeoutMs: 5_000, what: 'the second revision' });
    expect(worst).toBe(1);
    expect(status(c.ds()).observedGeneration).toBe(2);
    expect(c.livePods().map((p) => labels(p)[TEMPLATE_GENERATION_LABEL])).toEqual(['2', '2', '2']);
  });
});
