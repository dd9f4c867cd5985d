// The sandbox's workload controllers: table tests of the pure Deployment, ReplicaSet, EndpointSlice
// and Endpoints cores, then the controllers running in-process against the Api.
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../sandbox/apiserver/api.js';
import type { DeploymentPlan } from '../../sandbox/apiserver/controllers/deployment.js';
import { planDeployment, TEMPLATE_HASH_LABEL } from '../../sandbox/apiserver/controllers/deployment.js';
import {
  desiredEndpoints,
  desiredSlices,
  endpointsSubsets,
  planEndpointSlices,
  TriggerTimes,
} from '../../sandbox/apiserver/controllers/endpoints.js';
import { selectorMatches } from '../../sandbox/apiserver/controllers/objects.js';
import { deletionOrder } from '../../sandbox/apiserver/controllers/pods.js';
import {
  planReplicaSet,
  podFromTemplate,
  replicaSetStatus,
} from '../../sandbox/apiserver/controllers/replicaset.js';
import {
  podTemplateHash,
  renderPodTemplate,
  safeEncode,
} from '../../sandbox/apiserver/controllers/template-hash.js';
import { WorkQueue } from '../../sandbox/apiserver/controllers/work-queue.js';
import { startWorkloadControllers } from '../../sandbox/apiserver/controllers/workloads.js';
import { Registry } from '../../sandbox/apiserver/registry.js';
import { Store } from '../../sandbox/apiserver/store.js';
import type { JsonObject, ResourceType } from '../../sandbox/apiserver/types.js';
import { clone } from '../../sandbox/apiserver/types.js';
import { waitFor } from '../helpers/wait-for.js';

const T0 = Date.parse('2026-11-21T13:43:37Z');
const at = (offsetS: number): string => new Date(T0 + offsetS * 1000).toISOString().replace('.000Z', 'Z');
let uidCounter = 0;
const uid = (): string => `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, '0')}`;

/** The pod template of 07-deployment-defaults.json, as the API server defaulted it. */
function template(image = 'nginx:1.25'): JsonObject {
  return {
    metadata: { creationTimestamp: null, labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
  };
}

function singleContainer(name: string, image: string): JsonObject {
  return {
    name,
    image,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

/** The exact template of 07-deployment-defaults.json (two containers, the sidecar image untagged). */
function deploymentTemplate07(): JsonObject {
  const t = template();
  spec(t).containers = [
    ...(spec(t).containers as JsonObject[]),
    { ...singleContainer('sidecar', 'busybox'), imagePullPolicy: 'Always' },
  ];
  return t;
}

function deployment(
  over: { replicas?: number; strategy?: JsonObject; image?: string; extraSpec?: JsonObject } = {},
): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'fixtures',
      uid: 'deploy-uid',
      resourceVersion: '10',
      generation: 1,
      creationTimestamp: at(0),
    },
    spec: {
      replicas: over.replicas ?? 1,
      selector: { matchLabels: { app: 'web' } },
      template: template(over.image),
      strategy: over.strategy ?? {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
      },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...(over.extraSpec ?? {}),
    },
    status: {},
  };
}

const spec = (o: JsonObject): JsonObject => o.spec as JsonObject;
const meta = (o: JsonObject): JsonObject => o.metadata as JsonObject;
const status = (o: JsonObject): JsonObject => (o.status ?? {}) as JsonObject;
const cond = (o: JsonObject, type: string): JsonObject | undefined =>
  ((status(o).conditions ?? []) as JsonObject[]).find((c) => c.type === type);

/**
 * A tiny cluster for the pure Deployment core: applies a plan's writes as the API server would,
 * and plays ReplicaSet controller + kubelet by giving each ReplicaSet `readyFn(rs)` available pods.
 */
class Sim {
  d: JsonObject;
  sets = new Map<string, JsonObject>();
  clock = T0;
  private created = 0;

  constructor(d: JsonObject) {
    this.d = d;
  }

  step(available: (rs: JsonObject) => number = (rs) => Number(spec(rs).replicas)): DeploymentPlan {
    const plan = planDeployment({
      deployment: this.d,
      replicaSets: [...this.sets.values()],
      pods: [],
      nowMs: this.clock,
    });
    for (const w of plan.writes) {
      const name = meta(w.rs).name as string;
      if (w.op === 'delete') this.sets.delete(name);
      else if (w.op === 'create') {
        const rs = clone(w.rs);
        Object.assign(meta(rs), { uid: uid(), generation: 1, creationTimestamp: at(++this.created) });
        rs.status = { replicas: 0 };
        this.sets.set(name, rs);
      } else {
        const prev = this.sets.get(name) as JsonObject;
        const rs = clone(w.rs);
        if (JSON.stringify(spec(rs)) !== JSON.stringify(spec(prev)))
          meta(rs).generation = Number(meta(prev).generation) + 1;
        this.sets.set(name, rs);
      }
    }
    if (plan.deployment) {
      meta(this.d).annotations = plan.deployment.annotations;
      this.d.status = plan.deployment.status;
    }
    for (const rs of this.sets.values()) {
      const n = Number(spec(rs).replicas);
      const avail = Math.min(n, available(rs));
      rs.status = {
        replicas: n,
        ...(n ? { fullyLabeledReplicas: n } : {}),
        ...(avail ? { readyReplicas: avail, availableReplicas: avail } : {}),
        observedGeneration: meta(rs).generation as number,
      };
    }
    return plan;
  }

  changeTemplate(image: string): void {
    spec(this.d).template = template(image);
    meta(this.d).generation = Number(meta(this.d).generation) + 1;
  }

  byImage(image: string): JsonObject | undefined {
    return [...this.sets.values()].find((rs) => JSON.stringify(spec(rs).template).includes(image));
  }
}

describe('pod-template hash', () => {
  /** Templates from the fixtures (as the server defaulted them) with the hashes kube gave them. */
  const recorded: [string, JsonObject][] = [
    ['56d9d4bcc6', deploymentTemplate07()],
    [
      '55c5bd48c6',
      {
        ...template('nginx:1.26'),
        spec: { ...spec(template()), containers: [singleContainer('web', 'nginx:1.26')] },
      },
    ],
    [
      '867cbc9f6',
      {
        metadata: { creationTimestamp: null, labels: { app: 'scaler' } },
        spec: { ...spec(template()), containers: [singleContainer('app', 'nginx:1.25')] },
      },
    ],
  ];

  it.each(recorded)("reproduces kube-controller-manager's hash %s", (hash, tpl) => {
    expect(podTemplateHash(tpl)).toBe(hash);
  });

  it('renders like go-spew %#v and mixes in collisionCount', () => {
    const rendered = renderPodTemplate(template());
    expect(
      rendered.startsWith(
        '(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string)',
      ),
    ).toBe(true);
    expect(rendered).toContain('Labels:(map[string]string)map[app:web]');
    expect(rendered).toContain(
      'TerminationGracePeriodSeconds:(*int64)30 ActiveDeadlineSeconds:(*int64)<nil>',
    );
    expect(safeEncode('1285806772')).toBe('56d9d4bcc6');
    const h = podTemplateHash(template());
    expect(podTemplateHash(template('nginx:1.26'))).not.toBe(h);
    expect(podTemplateHash(template(), 1)).not.toBe(h);
    expect(podTemplateHash(template(), 1)).toMatch(/^[4-9bcdf]{1,10}$/);
  });

  it('still hashes templates with fields it does not model, stably and distinctly', () => {
    const withAffinity = (zone: string): JsonObject => {
      const t = template();
      spec(t).affinity = {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { zone } }],
        },
      };
      return t;
    };
    expect(podTemplateHash(withAffinity('a'))).toBe(podTemplateHash(withAffinity('a')));
    expect(podTemplateHash(withAffinity('a'))).not.toBe(podTemplateHash(withAffinity('b')));
    expect(podTemplateHash(withAffinity('a'))).not.toBe(podTemplateHash(template()));
  });

  it('matches label selectors with matchLabels and every matchExpressions operator', () => {
    const sel: JsonObject = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(selectorMatches(sel, { app: 'web', tier: 'a', team: 'x' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', tier: 'c', team: 'x' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'a', team: 'x', env: 'prod' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'a' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'a', team: 'x', legacy: '1' })).toBe(false);
    expect(selectorMatches({}, { any: 'thing' })).toBe(true);
  });
});

describe('Deployment controller core', () => {
  it('creates the first ReplicaSet as kube does (07-deployment-defaults)', () => {
    const d = deployment();
    const plan = planDeployment({ deployment: d, replicaSets: [], pods: [], nowMs: T0 });
    expect(plan.writes).toHaveLength(1);
    const w = plan.writes[0] as { op: string; rs: JsonObject };
    expect(w.op).toBe('create');
    const hash = podTemplateHash(template());
    expect(meta(w.rs)).toEqual({
      name: `web-${hash}`,
      namespace: 'fixtures',
      labels: { app: 'web', [TEMPLATE_HASH_LABEL]: hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '1',
        'deployment.kubernetes.io/max-replicas': '2',
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: 'deploy-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(spec(w.rs).replicas).toBe(1);
    expect(spec(w.rs).selector).toEqual({ matchLabels: { app: 'web', [TEMPLATE_HASH_LABEL]: hash } });
    expect(meta(spec(w.rs).template as JsonObject).labels).toEqual({
      app: 'web',
      [TEMPLATE_HASH_LABEL]: hash,
    });
    expect(plan.deployment?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    expect(plan.deployment?.status).toEqual({
      observedGeneration: 1,
      unavailableReplicas: 1,
      conditions: [
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: at(0),
          lastTransitionTime: at(0),
          reason: 'NewReplicaSetCreated',
          message: `Created new replica set "web-${hash}"`,
        },
        {
          type: 'Available',
          status: 'False',
          lastUpdateTime: at(0),
          lastTransitionTime: at(0),
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
      ],
    });
  });

  it('reports the status of 07-deployment-defaults once the pod exists but is not ready', () => {
    const sim = new Sim(deployment());
    sim.step(() => 0);
    sim.clock += 100;
    const plan = sim.step(() => 0);
    const hash = podTemplateHash(template());
    expect(plan.writes).toEqual([]);
    expect(status(sim.d)).toMatchObject({
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      unavailableReplicas: 1,
    });
    expect(status(sim.d).readyReplicas).toBeUndefined();
    expect(status(sim.d).availableReplicas).toBeUndefined();
    expect(cond(sim.d, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "web-${hash}" is progressing.`,
    });
    expect(cond(sim.d, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    // Nothing left to do: a further sync changes nothing.
    expect(sim.step(() => 0)).toEqual({ writes: [], requeueAfterMs: expect.any(Number) as number });
  });

  it('completes with NewReplicaSetAvailable and Available=True once pods are available', () => {
    const sim = new Sim(deployment({ replicas: 2 }));
    for (let i = 0; i < 4; i++) sim.step();
    const rs = sim.byImage('nginx:1.25') as JsonObject;
    expect(status(sim.d)).toMatchObject({
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(status(sim.d).unavailableReplicas).toBeUndefined();
    expect(cond(sim.d, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    expect(cond(sim.d, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${meta(rs).name as string}" has successfully progressed.`,
    });
  });

  it.each([
    { replicas: 4, maxSurge: '25%', maxUnavailable: '25%' },
    { replicas: 4, maxSurge: 0, maxUnavailable: 1 },
    { replicas: 3, maxSurge: 1, maxUnavailable: 0 },
    { replicas: 10, maxSurge: '30%', maxUnavailable: '20%' },
  ])(
    'rolls $replicas replicas within maxSurge=$maxSurge maxUnavailable=$maxUnavailable',
    ({ replicas, maxSurge, maxUnavailable }) => {
      const sim = new Sim(
        deployment({
          replicas,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
        }),
      );
      for (let i = 0; i < 5; i++) sim.step();
      sim.changeTemplate('nginx:1.26');
      const surge =
        typeof maxSurge === 'number' ? maxSurge : Math.ceil((replicas * parseInt(maxSurge)) / 100);
      const unavailable =
        typeof maxUnavailable === 'number'
          ? maxUnavailable
          : Math.floor((replicas * parseInt(maxUnavailable)) / 100);
      for (let i = 0; i < 40; i++) {
        sim.step();
        const sets = [...sim.sets.values()];
        const total = sets.reduce((n, rs) => n + Number(spec(rs).replicas), 0);
        const avail = sets.reduce((n, rs) => n + Number(status(rs).availableReplicas ?? 0), 0);
        expect(total).toBeLessThanOrEqual(replicas + surge);
        expect(avail).toBeGreaterThanOrEqual(replicas - unavailable);
      }
      expect(spec(sim.byImage('nginx:1.26') as JsonObject).replicas).toBe(replicas);
      expect(spec(sim.byImage('nginx:1.25') as JsonObject).replicas).toBe(0);
      expect(meta(sim.d).annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
      expect(cond(sim.d, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    },
  );

  it('keeps an unready rollout at new=1 old=1 for replicas=1 (12-table: 0/1 ready, 1 up-to-date)', () => {
    const sim = new Sim(deployment());
    for (let i = 0; i < 3; i++) sim.step(() => 0);
    sim.changeTemplate('nginx:1.26');
    for (let i = 0; i < 5; i++) sim.step(() => 0);
    expect(spec(sim.byImage('nginx:1.26') as JsonObject).replicas).toBe(1);
    expect(spec(sim.byImage('nginx:1.25') as JsonObject).replicas).toBe(1);
    expect(status(sim.d)).toMatchObject({ replicas: 2, updatedReplicas: 1, unavailableReplicas: 2 });
    expect(meta(sim.d).annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
  });

  it('scales proportionally across ReplicaSets in the middle of a rollout', () => {
    const sim = new Sim(
      deployment({
        replicas: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 0 } },
      }),
    );
    for (let i = 0; i < 4; i++) sim.step();
    sim.changeTemplate('nginx:1.26');
    sim.step(() => 0);
    sim.step(() => 0);
    const oldBefore = Number(spec(sim.byImage('nginx:1.25') as JsonObject).replicas);
    const newBefore = Number(spec(sim.byImage('nginx:1.26') as JsonObject).replicas);
    expect([oldBefore, newBefore]).toEqual([10, 3]);
    spec(sim.d).replicas = 20;
    meta(sim.d).generation = Number(meta(sim.d).generation) + 1;
    sim.step((rs) => (JSON.stringify(rs).includes('nginx:1.25') ? Number(spec(rs).replicas) : 0));
    const olds = Number(spec(sim.byImage('nginx:1.25') as JsonObject).replicas);
    const news = Number(spec(sim.byImage('nginx:1.26') as JsonObject).replicas);
    expect(olds + news).toBe(23);
    expect(olds).toBeGreaterThan(news);
    expect(meta(sim.byImage('nginx:1.26') as JsonObject).annotations).toMatchObject({
      'deployment.kubernetes.io/desired-replicas': '20',
      'deployment.kubernetes.io/max-replicas': '23',
    });
  });

  it('Recreate scales the old ReplicaSet to zero and waits for its pods before creating the new one', () => {
    const sim = new Sim(deployment({ replicas: 2, strategy: { type: 'Recreate' } }));
    for (let i = 0; i < 3; i++) sim.step();
    sim.changeTemplate('nginx:1.26');
    const old = sim.byImage('nginx:1.25') as JsonObject;
    const oldPod: JsonObject = {
      metadata: {
        name: 'web-old-1',
        namespace: 'fixtures',
        labels: { app: 'web' },
        ownerReferences: [{ kind: 'ReplicaSet', uid: meta(old).uid as string, controller: true }],
      },
      status: { phase: 'Running' },
    };
    const first = planDeployment({
      deployment: sim.d,
      replicaSets: [...sim.sets.values()],
      pods: [oldPod],
      nowMs: T0,
    });
    expect(first.writes.map((w) => [w.op, spec(w.rs).replicas])).toEqual([['update', 0]]);
    const scaledDown = clone(old);
    spec(scaledDown).replicas = 0;
    scaledDown.status = { replicas: 0, observedGeneration: 2 };
    const waiting = planDeployment({
      deployment: sim.d,
      replicaSets: [scaledDown],
      pods: [oldPod],
      nowMs: T0,
    });
    expect(waiting.writes).toEqual([]);
    const gone = planDeployment({ deployment: sim.d, replicaSets: [scaledDown], pods: [], nowMs: T0 });
    expect(gone.writes.map((w) => [w.op, spec(w.rs).replicas])).toEqual([['create', 2]]);
  });

  it('reports ProgressDeadlineExceeded after progressDeadlineSeconds without progress', () => {
    const sim = new Sim(deployment({ extraSpec: { progressDeadlineSeconds: 60 } }));
    sim.step(() => 0);
    sim.step(() => 0);
    const hash = podTemplateHash(template());
    const before = sim.step(() => 0);
    expect(before.requeueAfterMs).toBe(61_000);
    sim.clock += 61_000;
    sim.step(() => 0);
    expect(cond(sim.d, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "web-${hash}" has timed out progressing.`,
      lastTransitionTime: at(61),
    });
  });

  it('deletes the oldest unused ReplicaSets beyond revisionHistoryLimit', () => {
    const sim = new Sim(deployment({ extraSpec: { revisionHistoryLimit: 1 } }));
    for (const image of ['a:1', 'a:2', 'a:3', 'a:4']) {
      sim.changeTemplate(image);
      for (let i = 0; i < 6; i++) sim.step();
    }
    const revisions = [...sim.sets.values()].map(
      (rs) => (meta(rs).annotations as JsonObject)['deployment.kubernetes.io/revision'],
    );
    expect(revisions.sort()).toEqual(['3', '4']);
    expect(meta(sim.d).annotations).toEqual({ 'deployment.kubernetes.io/revision': '4' });
  });

  it('a template that comes back reuses its ReplicaSet with a new revision and revision-history', () => {
    const sim = new Sim(deployment());
    for (let i = 0; i < 4; i++) sim.step();
    sim.changeTemplate('nginx:1.26');
    for (let i = 0; i < 6; i++) sim.step();
    sim.changeTemplate('nginx:1.25');
    for (let i = 0; i < 6; i++) sim.step();
    expect(sim.sets.size).toBe(2);
    expect(meta(sim.byImage('nginx:1.25') as JsonObject).annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(spec(sim.byImage('nginx:1.25') as JsonObject).replicas).toBe(1);
  });
});

function pod(
  name: string,
  o: {
    labels?: JsonObject;
    node?: string;
    ip?: string;
    ready?: boolean;
    phase?: string;
    deleting?: boolean;
    owner?: string;
    created?: number;
  } = {},
): JsonObject {
  const p: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'fixtures',
      uid: `uid-${name}`,
      creationTimestamp: at(o.created ?? 0),
      labels: o.labels ?? { app: 'web' },
      ...(o.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true },
            ],
          }
        : {}),
      ...(o.deleting ? { deletionTimestamp: at(30), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [
        { name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
      ],
    },
    status: { phase: o.phase ?? (o.ip ? 'Running' : 'Pending') },
  };
  const st = p.status as JsonObject;
  if (o.ip) Object.assign(st, { podIP: o.ip, podIPs: [{ ip: o.ip }] });
  if (o.ready !== undefined)
    st.conditions = [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: at(3) }];
  return p;
}

function replicaSet(replicas: number, extra: JsonObject = {}): JsonObject {
  return {
    metadata: { name: 'rs', namespace: 'fixtures', uid: 'rs-uid', generation: 2 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { a: 'b' } },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
      ...extra,
    },
    status: { replicas: 0 },
  };
}

describe('ReplicaSet controller core', () => {
  it('creates the missing pods from the template with generateName and a controller reference', () => {
    const plan = planReplicaSet(replicaSet(3), [pod('a', { owner: 'rs-uid' })]);
    expect(plan.create).toBe(2);
    expect(plan.remove).toEqual([]);
    expect(podFromTemplate(replicaSet(3))).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'rs-',
        namespace: 'fixtures',
        labels: { app: 'web' },
        annotations: { a: 'b' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'rs',
            uid: 'rs-uid',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
    });
  });

  it('adopts matching orphans, releases non-matching pods, ignores other owners and inactive pods', () => {
    const pods = [
      pod('orphan'),
      pod('stray', { labels: { app: 'other' }, owner: 'rs-uid' }),
      pod('foreign', { owner: 'someone-else' }),
      pod('done', { owner: 'rs-uid', phase: 'Succeeded' }),
      pod('leaving', { owner: 'rs-uid', deleting: true }),
    ];
    const plan = planReplicaSet(replicaSet(1), pods);
    expect(plan.adopt.map((p) => meta(p).name)).toEqual(['orphan']);
    expect(plan.release.map((p) => meta(p).name)).toEqual(['stray']);
    expect(plan.owned.map((p) => meta(p).name)).toEqual(['orphan']);
    expect(plan.create).toBe(0);
  });

  it('deletes unscheduled, then not-ready, then newest pods first', () => {
    const pods = [
      pod('ready-old', { owner: 'rs-uid', node: 'n', ip: '10.0.0.1', ready: true, created: 1 }),
      pod('ready-new', { owner: 'rs-uid', node: 'n', ip: '10.0.0.2', ready: true, created: 5 }),
      pod('unready', { owner: 'rs-uid', node: 'n', ip: '10.0.0.3', ready: false, created: 2 }),
      pod('pending', { owner: 'rs-uid', created: 0 }),
    ];
    expect(deletionOrder(pods).map((p) => meta(p).name)).toEqual([
      'pending',
      'unready',
      'ready-new',
      'ready-old',
    ]);
    const plan = planReplicaSet(replicaSet(1), pods);
    expect(plan.remove.map((p) => meta(p).name)).toEqual(['pending', 'unready', 'ready-new']);
  });

  it('counts replicas, fully labelled, ready and available (minReadySeconds) pods', () => {
    const rs = replicaSet(3, { minReadySeconds: 10 });
    const owned = [
      pod('a', { owner: 'rs-uid', ip: '10.0.0.1', ready: true }),
      pod('b', { owner: 'rs-uid', ip: '10.0.0.2', ready: true, labels: { app: 'web', extra: 'x' } }),
      pod('c', { owner: 'rs-uid', ready: false }),
    ];
    const early = replicaSetStatus(rs, owned, undefined, T0 + 5_000, at(5));
    expect(early.status).toEqual({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 2,
      observedGeneration: 2,
    });
    expect(early.requeueAfterMs).toBe(8_001);
    const later = replicaSetStatus(rs, owned, undefined, T0 + 14_000, at(14));
    expect(later.status.availableReplicas).toBe(2);
    expect(later.requeueAfterMs).toBeUndefined();
    const failed = replicaSetStatus(rs, [], { reason: 'FailedCreate', message: 'quota' }, T0, at(0));
    expect(failed.status).toEqual({
      replicas: 0,
      observedGeneration: 2,
      conditions: [
        {
          type: 'ReplicaFailure',
          status: 'True',
          lastTransitionTime: at(0),
          reason: 'FailedCreate',
          message: 'quota',
        },
      ],
    });
  });
});

const service: JsonObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'fixtures', uid: 'svc-uid', creationTimestamp: at(3) },
  spec: {
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }],
    selector: { app: 'web' },
    clusterIP: '10.0.0.140',
    clusterIPs: ['10.0.0.140'],
    type: 'ClusterIP',
    ipFamilies: ['IPv4'],
  },
};
const node: JsonObject = {
  metadata: { name: 'fixtures-node', labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
};
const nodes = (name: string): JsonObject | undefined => (name === 'fixtures-node' ? node : undefined);
const ownerRef = {
  apiVersion: 'v1',
  kind: 'Service',
  name: 'web',
  uid: 'svc-uid',
  controller: true,
  blockOwnerDeletion: true,
};
const sliceLabels = {
  'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  'kubernetes.io/service-name': 'web',
};

describe('EndpointSlice and Endpoints cores (08-service-defaults)', () => {
  const readyPod = pod('web-ready', { node: 'fixtures-node', ip: '10.244.0.10', ready: true });
  const notReadyPod = pod('web-notready', { node: 'fixtures-node', ip: '10.244.0.11', ready: false });
  const pendingPods = [pod('web-56d9d4bcc6-s8lj4')];

  it('publishes a placeholder slice (no endpoints, no ports) for a Service with only Pending pods', () => {
    const plan = planEndpointSlices(service, [], desiredSlices(service, pendingPods, nodes), at(3));
    expect(plan.update).toEqual([]);
    expect(plan.create).toEqual([
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: 'web-',
          namespace: 'fixtures',
          labels: sliceLabels,
          ownerReferences: [ownerRef],
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': at(3) },
        },
        addressType: 'IPv4',
        endpoints: null,
        ports: null,
      },
    ]);
    // The stored placeholder is kept as it is on the next sync.
    const stored = {
      ...(plan.create[0] as JsonObject),
      metadata: { ...meta(plan.create[0] as JsonObject), name: 'web-tzdx2', uid: 'slice-uid' },
    };
    expect(
      planEndpointSlices(service, [stored], desiredSlices(service, pendingPods, nodes), undefined),
    ).toEqual({ create: [], update: [], remove: [] });
    expect(desiredEndpoints(service, undefined, pendingPods, at(3))).toEqual({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'web',
        namespace: 'fixtures',
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': at(3) },
      },
    });
  });

  it('fills the placeholder with ready and not-ready endpoints, named ports resolved, zone from the Node', () => {
    const placeholder: JsonObject = {
      metadata: {
        name: 'web-tzdx2',
        generateName: 'web-',
        namespace: 'fixtures',
        uid: 's1',
        resourceVersion: '5',
        labels: sliceLabels,
        ownerReferences: [ownerRef],
      },
      addressType: 'IPv4',
      endpoints: null,
      ports: null,
    };
    const plan = planEndpointSlices(
      service,
      [placeholder],
      desiredSlices(service, [readyPod, notReadyPod, ...pendingPods], nodes),
      at(3),
    );
    expect(plan.create).toEqual([]);
    expect(plan.remove).toEqual([]);
    expect(plan.update).toHaveLength(1);
    const slice = plan.update[0] as JsonObject;
    expect(meta(slice).name).toBe('web-tzdx2');
    expect(slice.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(slice.endpoints).toEqual([
      {
        addresses: ['10.244.0.11'],
        conditions: { ready: false, serving: false, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'fixtures', name: 'web-notready', uid: 'uid-web-notready' },
        nodeName: 'fixtures-node',
        zone: 'zone-a',
      },
      {
        addresses: ['10.244.0.10'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'fixtures', name: 'web-ready', uid: 'uid-web-ready' },
        nodeName: 'fixtures-node',
        zone: 'zone-a',
      },
    ]);
    expect(endpointsSubsets(service, [readyPod, notReadyPod, ...pendingPods])).toEqual([
      {
        addresses: [
          {
            ip: '10.244.0.10',
            nodeName: 'fixtures-node',
            targetRef: { kind: 'Pod', namespace: 'fixtures', name: 'web-ready', uid: 'uid-web-ready' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.244.0.11',
            nodeName: 'fixtures-node',
            targetRef: { kind: 'Pod', namespace: 'fixtures', name: 'web-notready', uid: 'uid-web-notready' },
          },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('marks a terminating pod serving but not ready in slices and drops it from Endpoints', () => {
    const terminating = pod('web-ready', {
      node: 'fixtures-node',
      ip: '10.244.0.10',
      ready: true,
      deleting: true,
    });
    const desired = desiredSlices(service, [terminating, notReadyPod], nodes);
    const group = [...(desired.groups.get('IPv4') as Map<string, { endpoints: JsonObject[] }>).values()][0];
    expect(
      group?.endpoints.find((e) => (e.targetRef as JsonObject).name === 'web-ready')?.conditions,
    ).toEqual({
      ready: false,
      serving: true,
      terminating: true,
    });
    const subsets = endpointsSubsets(service, [terminating, notReadyPod]);
    expect(JSON.stringify(subsets)).not.toContain('web-ready');
    expect(subsets[0]?.notReadyAddresses).toHaveLength(1);
  });

  it('leaves out pods on missing Nodes (and says so) and pods whose named port does not resolve', () => {
    const elsewhere = pod('elsewhere', { node: 'ghost', ip: '10.244.0.12', ready: true });
    const desired = desiredSlices(service, [elsewhere], nodes);
    expect(desired.missingNodes).toBe(true);
    expect([...(desired.groups.get('IPv4') ?? new Map<string, unknown>()).keys()]).toEqual([]);
    const noPort = pod('noport', { node: 'fixtures-node', ip: '10.244.0.13', ready: true });
    ((spec(noPort).containers as JsonObject[])[0] as JsonObject).ports = [];
    expect(endpointsSubsets(service, [noPort])).toEqual([]);
  });

  it('labels headless Services and keeps unnamed ports nameless in Endpoints but "" in slices', () => {
    const headless = clone(service);
    Object.assign(spec(headless), {
      clusterIP: 'None',
      ports: [{ protocol: 'TCP', port: 80, targetPort: 8080 }],
    });
    const plan = planEndpointSlices(headless, [], desiredSlices(headless, [readyPod], nodes), undefined);
    const slice = plan.create[0] as JsonObject;
    expect(meta(slice).labels).toEqual({ ...sliceLabels, 'service.kubernetes.io/headless': '' });
    expect(meta(slice).annotations).toBeUndefined();
    expect(slice.ports).toEqual([{ name: '', protocol: 'TCP', port: 8080 }]);
    const ep = desiredEndpoints(headless, undefined, [readyPod], undefined) as JsonObject;
    expect(meta(ep).labels).toEqual({ 'service.kubernetes.io/headless': '' });
    expect(((ep.subsets as JsonObject[])[0] as JsonObject).ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
  });

  it('writes Endpoints only when subsets or labels change', () => {
    const first = desiredEndpoints(service, undefined, [readyPod], at(3)) as JsonObject;
    const stored = { ...first, metadata: { ...meta(first), uid: 'e1', resourceVersion: '7' } };
    expect(desiredEndpoints(service, stored, [readyPod], at(9))).toBeUndefined();
    const changed = desiredEndpoints(service, stored, [readyPod, notReadyPod], undefined) as JsonObject;
    expect(meta(changed).resourceVersion).toBe('7');
    expect(meta(changed).annotations).toBeUndefined();
  });

  it('reports a trigger time only when a pod Ready transition or the Service is new to the tracker', () => {
    const tracker = new TriggerTimes();
    expect(tracker.changed(service, pendingPods)).toBe(at(3));
    expect(tracker.changed(service, pendingPods)).toBeUndefined();
    const readyLater = pod('web-ready', { node: 'fixtures-node', ip: '10.244.0.10', ready: true });
    ((status(readyLater).conditions as JsonObject[])[0] as JsonObject).lastTransitionTime = at(7);
    expect(tracker.changed(service, [readyLater])).toBe(at(7));
    expect(tracker.changed(service, [readyLater])).toBeUndefined();
  });
});

describe('WorkQueue', () => {
  it('runs each queued key once per turn, later than the add, and never inside it', async () => {
    const runs: string[] = [];
    const q = new WorkQueue((key) => {
      runs.push(key);
      return undefined;
    });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(runs).toEqual([]);
    await waitFor(() => runs.length === 2, { timeoutMs: 1_000, what: 'two syncs' });
    expect(runs).toEqual(['a', 'b']);
    q.stop();
  });

  it('retries a failing key with backoff and honours requeueAfterMs', async () => {
    const times: number[] = [];
    const q = new WorkQueue(
      () => {
        times.push(Date.now());
        return times.length < 4 ? { retry: true } : times.length === 4 ? { requeueAfterMs: 30 } : undefined;
      },
      { baseBackoffMs: 10 },
    );
    q.add('k');
    await waitFor(() => times.length === 5, { timeoutMs: 2_000, what: 'five syncs' });
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps[2]).toBeGreaterThanOrEqual(35);
    expect(gaps[3]).toBeGreaterThanOrEqual(25);
    q.stop();
  });
});

// ------------------------------------------------------------------------------- in-process

type Result<T> = { ok: true; value: T } | { ok: false; error: { message: string } };
function must<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const NS = 'fixtures';
const HASH_RE = /^[4-9bcdf]{1,10}$/;

function startCluster() {
  const api = new Api(new Store(), new Registry());
  const type = (group: string, version: string, resource: string): ResourceType => {
    const t = api.registry.lookup(group, version, resource);
    if (!t) throw new Error(`no ${resource}`);
    return t;
  };
  const T = {
    namespaces: type('', 'v1', 'namespaces'),
    serviceaccounts: type('', 'v1', 'serviceaccounts'),
    deployments: type('apps', 'v1', 'deployments'),
    replicasets: type('apps', 'v1', 'replicasets'),
    pods: type('', 'v1', 'pods'),
    services: type('', 'v1', 'services'),
    endpoints: type('', 'v1', 'endpoints'),
    endpointslices: type('discovery.k8s.io', 'v1', 'endpointslices'),
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
  const stops = [startWorkloadControllers(api)];
  const list = (t: ResourceType, labelSelector?: string): JsonObject[] =>
    must(api.list(t, NS, labelSelector ? { labelSelector } : {})).items;
  const get = (t: ResourceType, name: string): JsonObject | undefined => {
    const r = api.get(t, NS, name);
    return r.ok ? r.value : undefined;
  };
  /** Waits until nothing has been written for a few polls: the controllers are at rest. */
  const settled = async (): Promise<void> => {
    let last = api.store.currentRv();
    let quiet = 0;
    await waitFor(
      () => {
        const rv = api.store.currentRv();
        quiet = rv === last ? quiet + 1 : 0;
        last = rv;
        return quiet >= 5;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'the controllers to stop writing' },
    );
  };
  return { api, T, list, get, settled, stop: () => stops.forEach((s) => s()), stops };
}

type Cluster = ReturnType<typeof startCluster>;

/**
 * Plays kubelet for the test: binds every new pod to `node`, reports it Running and Ready with an
 * IP, and finishes graceful deletions at once.
 */
function fakeKubelet(c: Cluster, node = 'fixtures-node'): () => void {
  let next = 10;
  return c.api.store.subscribe('/pods', (e) => {
    if (e.type === 'DELETED') return;
    const name = meta(e.object).name as string;
    setImmediate(() => {
      const cur = c.api.store.get('/pods', NS, name);
      if (!cur) return;
      if (meta(cur).deletionTimestamp) {
        c.api.delete(c.T.pods, NS, name, { gracePeriodSeconds: 0 });
        return;
      }
      if (status(cur).phase === 'Running') return;
      const pod = clone(cur);
      spec(pod).nodeName ??= node;
      const ip = `10.244.1.${next++}`;
      const now = new Date(c.api.now()).toISOString().replace(/\.\d+Z$/, 'Z');
      pod.status = {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
      };
      c.api.putDirect(c.T.pods, pod);
    });
  });
}

const webDeployment = (replicas: number, strategy?: JsonObject): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    ...(strategy ? { strategy } : {}),
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] },
          { name: 'sidecar', image: 'busybox' },
        ],
      },
    },
  },
});

const setImage = (c: Cluster, image: string): void => {
  const patch = {
    spec: {
      template: {
        spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
  must(c.api.patch(c.T.deployments, NS, 'web', '', 'merge', patch));
};

const activePods = (c: Cluster): JsonObject[] =>
  c.list(c.T.pods, 'app=web').filter((p) => !meta(p).deletionTimestamp);
const imageOf = (p: JsonObject): string =>
  ((spec(p).containers as JsonObject[])[0] as JsonObject).image as string;

describe('workload controllers in-process', () => {
  let c: Cluster;
  afterEach(() => c.stop());

  it('turns a Deployment into a ReplicaSet and Pods with the status of 07-deployment-defaults', async () => {
    c = startCluster();
    const created = must(c.api.create(c.T.deployments, NS, webDeployment(1)));
    const uidOfDeploy = meta(created.object).uid as string;
    const d = await waitFor(
      () => {
        const cur = c.get(c.T.deployments, 'web');
        return cur && cond(cur, 'Progressing')?.reason === 'ReplicaSetUpdated' && status(cur).replicas === 1
          ? cur
          : undefined;
      },
      { timeoutMs: 5_000, what: 'the Deployment status' },
    );
    await c.settled();
    const [rs, ...moreSets] = c.list(c.T.replicasets);
    expect(moreSets).toEqual([]);
    const rsName = meta(rs as JsonObject).name as string;
    const hash = (meta(rs as JsonObject).labels as JsonObject)['pod-template-hash'] as string;
    expect(hash).toMatch(HASH_RE);
    expect(rsName).toBe(`web-${hash}`);
    expect(meta(rs as JsonObject)).toMatchObject({
      generation: 1,
      labels: { app: 'web', 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '1',
        'deployment.kubernetes.io/max-replicas': '2',
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: uidOfDeploy,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(spec(rs as JsonObject).selector).toEqual({
      matchLabels: { app: 'web', 'pod-template-hash': hash },
    });
    expect(status(rs as JsonObject)).toEqual({ replicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1 });
    const [p, ...morePods] = c.list(c.T.pods);
    expect(morePods).toEqual([]);
    expect(meta(p as JsonObject).generateName).toBe(`${rsName}-`);
    expect(meta(p as JsonObject).name).toMatch(new RegExp(`^${rsName}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    expect(meta(p as JsonObject).labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect((meta(p as JsonObject).ownerReferences as JsonObject[])[0]).toMatchObject({
      kind: 'ReplicaSet',
      name: rsName,
      controller: true,
    });
    const final = c.get(c.T.deployments, 'web') as JsonObject;
    expect(meta(final).generation).toBe(1);
    expect(meta(final).annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    expect(status(final)).toMatchObject({
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      unavailableReplicas: 1,
    });
    expect(status(final).readyReplicas).toBeUndefined();
    expect(cond(final, 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
      message: 'Deployment does not have minimum availability.',
    });
    expect(cond(final, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "${rsName}" is progressing.`,
    });
    expect(d).toBeDefined();
  });

  it('scales pods up and down with spec.replicas (06-scale-subresource)', async () => {
    c = startCluster();
    must(c.api.create(c.T.deployments, NS, webDeployment(1)));
    must(c.api.writeScale(c.T.deployments, NS, 'web', { spec: { replicas: 3 } }, 'merge'));
    await waitFor(
      () => activePods(c).length === 3 && status(c.get(c.T.deployments, 'web') as JsonObject).replicas === 3,
      {
        timeoutMs: 5_000,
        what: '3 pods',
      },
    );
    must(c.api.writeScale(c.T.deployments, NS, 'web', { spec: { replicas: 1 } }, 'merge'));
    await waitFor(
      () => activePods(c).length === 1 && must(c.api.getScale(c.T.deployments, NS, 'web')).status,
      {
        timeoutMs: 5_000,
        what: '1 pod',
      },
    );
    await c.settled();
    expect(activePods(c)).toHaveLength(1);
    expect((must(c.api.getScale(c.T.deployments, NS, 'web')).status as JsonObject).replicas).toBe(1);
    const d = c.get(c.T.deployments, 'web') as JsonObject;
    expect(status(d)).toMatchObject({
      observedGeneration: meta(d).generation as number,
      replicas: 1,
      updatedReplicas: 1,
    });
    expect(c.list(c.T.replicasets)).toHaveLength(1);
  });

  it('rolls out a new template within maxSurge/maxUnavailable while a kubelet readies pods', async () => {
    c = startCluster();
    c.stops.push(fakeKubelet(c));
    must(c.api.create(c.T.deployments, NS, webDeployment(3)));
    const complete = (image: string) => () => {
      const d = c.get(c.T.deployments, 'web') as JsonObject;
      const pods = activePods(c);
      return (
        cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable' &&
        status(d).availableReplicas === 3 &&
        pods.length === 3 &&
        pods.every((p) => imageOf(p) === image)
      );
    };
    await waitFor(complete('nginx:1.25'), { timeoutMs: 5_000, what: 'the first rollout' });
    let maxActive = 0;
    let minReady = 3;
    c.stops.push(
      c.api.store.subscribe('/pods', () => {
        const pods = activePods(c);
        maxActive = Math.max(maxActive, pods.length);
        minReady = Math.min(minReady, pods.filter((p) => cond(p, 'Ready')?.status === 'True').length);
      }),
    );
    setImage(c, 'nginx:1.26');
    await waitFor(complete('nginx:1.26'), { timeoutMs: 5_000, what: 'the second rollout' });
    await c.settled();
    expect(maxActive).toBe(4);
    expect(minReady).toBe(3);
    const d = c.get(c.T.deployments, 'web') as JsonObject;
    expect(meta(d).annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
    const sets = c.list(c.T.replicasets);
    const newRs = sets.find((rs) => JSON.stringify(spec(rs).template).includes('nginx:1.26')) as JsonObject;
    const oldRs = sets.find((rs) => JSON.stringify(spec(rs).template).includes('nginx:1.25')) as JsonObject;
    expect([spec(newRs).replicas, spec(oldRs).replicas]).toEqual([3, 0]);
    expect(status(oldRs)).toEqual({ replicas: 0, observedGeneration: meta(oldRs).generation as number });
    expect(status(d)).toMatchObject({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(cond(d, 'Progressing')?.message).toBe(
      `ReplicaSet "${meta(newRs).name as string}" has successfully progressed.`,
    );
    expect(cond(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
  });

  it('Recreate never runs old and new pods together', async () => {
    c = startCluster();
    c.stops.push(fakeKubelet(c));
    must(c.api.create(c.T.deployments, NS, webDeployment(2, { type: 'Recreate' })));
    await waitFor(() => activePods(c).filter((p) => status(p).phase === 'Running').length === 2, {
      timeoutMs: 5_000,
      what: 'old pods',
    });
    let mixed = false;
    c.stops.push(
      c.api.store.subscribe('/pods', () => {
        const images = new Set(activePods(c).map(imageOf));
        if (images.size > 1) mixed = true;
      }),
    );
    setImage(c, 'nginx:1.26');
    await waitFor(
      () => {
        const pods = activePods(c);
        return (
          pods.length === 2 && pods.every((p) => imageOf(p) === 'nginx:1.26' && status(p).phase === 'Running')
        );
      },
      { timeoutMs: 5_000, what: 'new pods' },
    );
    await c.settled();
    expect(mixed).toBe(false);
    expect(cond(c.get(c.T.deployments, 'web') as JsonObject, 'Progressing')?.reason).toBe(
      'NewReplicaSetAvailable',
    );
  });

  it('maintains the EndpointSlice and Endpoints of 08-service-defaults', async () => {
    c = startCluster();
    must(
      c.api.create(c.T.nodes, undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: 'fixtures-node',
          labels: { 'kubernetes.io/hostname': 'fixtures-node', 'topology.kubernetes.io/zone': 'zone-a' },
        },
      }),
    );
    const svc = must(
      c.api.create(c.T.services, NS, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    ).object;
    const slices = () => c.list(c.T.endpointslices, 'kubernetes.io/service-name=web');
    const [placeholder] = await waitFor(() => (slices().length === 1 ? slices() : undefined), {
      timeoutMs: 5_000,
      what: 'a slice',
    });
    expect(placeholder).toMatchObject({
      metadata: {
        generateName: 'web-',
        generation: 1,
        labels: {
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          'kubernetes.io/service-name': 'web',
        },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: 'web',
            uid: meta(svc).uid as string,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: 'IPv4',
    });
    expect((placeholder as JsonObject).endpoints ?? null).toBeNull();
    expect((placeholder as JsonObject).ports ?? null).toBeNull();
    expect(
      (meta(placeholder as JsonObject).annotations as JsonObject)[
        'endpoints.kubernetes.io/last-change-trigger-time'
      ],
    ).toBe(meta(svc).creationTimestamp);
    const ep = await waitFor(() => c.get(c.T.endpoints, 'web'), { timeoutMs: 5_000, what: 'Endpoints' });
    expect(ep.subsets).toBeUndefined();

    for (const [name, ready, ip] of [
      ['web-ready', true, '10.244.0.10'],
      ['web-notready', false, '10.244.0.11'],
    ] as const) {
      must(
        c.api.create(c.T.pods, NS, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: 'web' } },
          spec: {
            nodeName: 'fixtures-node',
            containers: [
              { name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] },
            ],
          },
        }),
      );
      must(
        c.api.patch(c.T.pods, NS, name, 'status', 'merge', {
          status: {
            phase: 'Running',
            podIP: ip,
            podIPs: [{ ip }],
            conditions: [
              { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-11-21T13:43:40Z' },
            ],
          },
        }),
      );
    }
    const ref = (name: string) => ({
      kind: 'Pod',
      namespace: NS,
      name,
      uid: meta(c.get(c.T.pods, name) as JsonObject).uid as string,
    });
    const byPod = (s: JsonObject) =>
      Object.fromEntries(
        ((s.endpoints ?? []) as JsonObject[]).map((e) => [(e.targetRef as JsonObject).name as string, e]),
      );
    const filled = await waitFor(
      () => {
        const [s] = slices();
        return s && Object.keys(byPod(s)).length === 2 ? s : undefined;
      },
      { timeoutMs: 5_000, what: 'two endpoints' },
    );
    expect(meta(filled).name).toBe(meta(placeholder as JsonObject).name);
    expect(filled.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(byPod(filled)).toEqual({
      'web-ready': {
        addresses: ['10.244.0.10'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: ref('web-ready'),
        nodeName: 'fixtures-node',
        zone: 'zone-a',
      },
      'web-notready': {
        addresses: ['10.244.0.11'],
        conditions: { ready: false, serving: false, terminating: false },
        targetRef: ref('web-notready'),
        nodeName: 'fixtures-node',
        zone: 'zone-a',
      },
    });
    await waitFor(() => (c.get(c.T.endpoints, 'web') as JsonObject).subsets, {
      timeoutMs: 5_000,
      what: 'subsets',
    });
    expect((c.get(c.T.endpoints, 'web') as JsonObject).subsets).toEqual([
      {
        addresses: [{ ip: '10.244.0.10', nodeName: 'fixtures-node', targetRef: ref('web-ready') }],
        notReadyAddresses: [{ ip: '10.244.0.11', nodeName: 'fixtures-node', targetRef: ref('web-notready') }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);

    // A pod bound to a node terminates gracefully: still in the slice (terminating), gone from Endpoints.
    must(c.api.delete(c.T.pods, NS, 'web-ready'));
    await waitFor(
      () =>
        (byPod(slices()[0] as JsonObject)['web-ready']?.conditions as JsonObject | undefined)?.terminating ===
        true,
      {
        timeoutMs: 5_000,
        what: 'a terminating endpoint',
      },
    );
    expect(byPod(slices()[0] as JsonObject)['web-ready']?.conditions).toEqual({
      ready: false,
      serving: true,
      terminating: true,
    });
    await waitFor(() => !JSON.stringify(c.get(c.T.endpoints, 'web')).includes('web-ready'), {
      timeoutMs: 5_000,
      what: 'Endpoints without web-ready',
    });
    expect((c.get(c.T.endpoints, 'web') as JsonObject).subsets).toEqual([
      {
        notReadyAddresses: [{ ip: '10.244.0.11', nodeName: 'fixtures-node', targetRef: ref('web-notready') }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    must(c.api.delete(c.T.pods, NS, 'web-ready', { gracePeriodSeconds: 0 }));
    await waitFor(() => Object.keys(byPod(slices()[0] as JsonObject)).length === 1, {
      timeoutMs: 5_000,
      what: 'one endpoint left',
    });
    await c.settled();
    expect(slices()).toHaveLength(1);

    must(c.api.delete(c.T.services, NS, 'web'));
    await waitFor(() => c.get(c.T.endpoints, 'web') === undefined, {
      timeoutMs: 5_000,
      what: 'Endpoints deleted with the Service',
    });
  });
});
