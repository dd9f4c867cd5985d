// operator/daemonset.ts: the DaemonSet builders as tables, then DaemonSetWorkload (through workloadByKind)
// on a two-node sandbox cluster: bootstrap, scale to zero and back, promotion, and a DaemonSet it cannot use.
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../crds/schema/flagger.js';
import {
  DaemonSetWorkload,
  SCALE_TO_ZERO_LABEL,
  buildPrimaryDaemonSet,
  checkUpdateStrategy,
  daemonSetObservation,
  withoutScaleToZero,
} from '../../operator/daemonset.js';
import type { Workload } from '../../operator/workload.js';
import {
  DeploymentWorkload,
  REVISION_ANNOTATION,
  selectorLabel,
  targetRevision,
  workloadByKind,
} from '../../operator/workload.js';
import { parseCanary } from '../../operator/validate.js';
import type { SandboxCluster } from '../../sandbox/cluster.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import { testCanary } from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import { createParsedCanary } from '../helpers/parsed-canary.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'daemons';

/** A DaemonSet selecting `matchLabels`; its image is no sandbox program, so its pods are virtual and Ready. */
function daemonSet(
  name: string,
  opts: {
    version?: string;
    matchLabels?: Record<string, string>;
    nodeSelector?: Record<string, string>;
  } = {},
): V1DaemonSet {
  const matchLabels = opts.matchLabels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NS, labels: { team: 'a' } },
    spec: {
      selector: { matchLabels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } },
      template: {
        metadata: { labels: { ...matchLabels } },
        spec: {
          ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
          containers: [
            {
              name: 'agent',
              image: 'nginx:1.25',
              env: [{ name: 'VERSION', value: opts.version ?? 'v1' }],
              ports: [{ name: 'http', containerPort: 80 }],
            },
          ],
        },
      },
    },
  };
}

const daemonCanary = (name: string): ReturnType<typeof testCanary> =>
  testCanary(NS, name, {
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name } },
  });

describe('DaemonSet builders', () => {
  it('scale to zero never changes the revision and never reaches the primary', () => {
    const plain = daemonSet('agent', { nodeSelector: { disk: 'ssd' } });
    const zero = daemonSet('agent', { nodeSelector: { disk: 'ssd', [SCALE_TO_ZERO_LABEL]: 'true' } });
    expect(withoutScaleToZero(zero).spec?.template.spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(targetRevision(withoutScaleToZero(zero))).toBe(targetRevision(plain));
    const onlyZero = daemonSet('agent', { nodeSelector: { [SCALE_TO_ZERO_LABEL]: 'true' } });
    expect(withoutScaleToZero(onlyZero).spec?.template.spec).not.toHaveProperty('nodeSelector');
    expect(targetRevision(withoutScaleToZero(onlyZero))).toBe(targetRevision(daemonSet('agent')));

    const parsed = parseCanary({
      ...daemonCanary('agent'),
      metadata: { name: 'agent', namespace: NS, uid: 'u' },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const primary = buildPrimaryDaemonSet(parsed.value, onlyZero, { key: 'app', value: 'agent' }, 'rev1');
    expect(primary.metadata).toMatchObject({
      name: 'agent-primary',
      labels: { team: 'a', app: 'agent-primary' },
      annotations: { [REVISION_ANNOTATION]: 'rev1' },
    });
    expect(primary.spec?.selector.matchLabels).toEqual({ app: 'agent-primary' });
    expect(primary.spec?.template.metadata?.labels).toEqual({ app: 'agent-primary' });
    expect(primary.spec?.template.spec).not.toHaveProperty('nodeSelector');
    expect(primary.spec?.updateStrategy).toEqual(onlyZero.spec?.updateStrategy);
  });

  it.each([
    [
      'rolled out',
      { generation: 2 },
      {
        observedGeneration: 2,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberReady: 2,
        numberMisscheduled: 0,
      },
      { desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 2, replicas: 2 },
    ],
    [
      'spec not yet observed',
      { generation: 3 },
      {
        observedGeneration: 2,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberReady: 2,
        numberMisscheduled: 0,
      },
      { desiredReplicas: 2, updatedReplicas: 0, readyReplicas: 2, replicas: 2 },
    ],
    [
      'old pods left after scaling to zero',
      { generation: 4 },
      {
        observedGeneration: 4,
        desiredNumberScheduled: 0,
        currentNumberScheduled: 0,
        numberReady: 0,
        numberMisscheduled: 2,
      },
      { desiredReplicas: 0, updatedReplicas: 0, readyReplicas: 0, replicas: 2 },
    ],
  ])('observation (%s)', (_what, metadata, status, expected) => {
    const ds: V1DaemonSet = { ...daemonSet('agent'), status };
    ds.metadata = { ...ds.metadata, ...metadata };
    expect(daemonSetObservation(ds)).toEqual(expected);
  });

  it('a DaemonSet without a selector label, or with OnDelete, is a problem naming the field', () => {
    const sel = selectorLabel(daemonSet('agent', { matchLabels: { tier: 'node' } }));
    expect(sel).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    if (!sel.ok)
      expect(sel.message).toMatch(/^DaemonSet agent: spec\.selector\.matchLabels must carry one of/);
    const onDelete = daemonSet('agent');
    if (onDelete.spec) onDelete.spec.updateStrategy = { type: 'OnDelete' };
    const [problem, ...more] = checkUpdateStrategy(onDelete);
    expect(more).toEqual([]);
    expect(problem?.field).toBe('spec.targetRef.name');
    expect(problem?.message).toContain('spec.updateStrategy.type must be RollingUpdate (it is OnDelete)');
    expect(checkUpdateStrategy(daemonSet('agent'))).toEqual([]);
  });
});

describe('DaemonSetWorkload on a two-node sandbox', () => {
  let cluster: SandboxCluster;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let workload: Workload;

  /** Running pods selected by `app=<value>`, by node. */
  const podsOf = async (app: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter(
      (p) => p.metadata?.deletionTimestamp === undefined,
    );
  const nodesOf = (pods: V1Pod[]): string[] => pods.map((p) => p.spec?.nodeName ?? '').sort();
  const readDaemonSet = (name: string): Promise<V1DaemonSet> =>
    apps.readNamespacedDaemonSet({ namespace: NS, name });

  beforeAll(async () => {
    cluster = await startSandboxCluster({ nodes: 2 });
    apps = cluster.kc.makeApiClient(AppsV1Api);
    core = cluster.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await installCrds(cluster.kc);
    workload = workloadByKind({
      Deployment: new DeploymentWorkload(cluster.kc, { timeoutMs: 5_000 }),
      DaemonSet: new DaemonSetWorkload(cluster.kc, { timeoutMs: 5_000 }),
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  describe('agent', () => {
    let canary: Canary;
    const nodes = ['sandbox-node-0', 'sandbox-node-1'];

    beforeAll(async () => {
      await apps.createNamespacedDaemonSet({ namespace: NS, body: daemonSet('agent') });
      canary = await createParsedCanary(cluster.kc, daemonCanary('agent'));
      await waitFor(async () => (await podsOf('agent')).length === 2, {
        timeoutMs: 20_000,
        what: 'target pods',
      });
    });

    it('bootstrap runs a primary pod on each node; scaling to zero removes the target’s pods', async () => {
      const r = await workload.bootstrap(canary);
      expect(r).toEqual({
        ok: true,
        value: {
          created: [
            'DaemonSet/agent-primary',
            'Service/agent',
            'Service/agent-primary',
            'Service/agent-canary',
          ],
        },
      });
      const seen = await waitFor(
        async () => {
          const o = await workload.observe(canary);
          return o.primary?.readyReplicas === 2 && o.primary.updatedReplicas === 2 ? o : undefined;
        },
        { timeoutMs: 20_000, what: 'two ready primary pods' },
      );
      expect(seen.primary).toMatchObject({ desiredReplicas: 2, replicas: 2, revision: seen.targetRevision });
      expect(nodesOf(await podsOf('agent-primary'))).toEqual(nodes);

      expect(await workload.scaleTargetToZero(canary)).toEqual({ ok: true, value: undefined });
      expect((await readDaemonSet('agent')).spec?.template.spec?.nodeSelector).toEqual({
        [SCALE_TO_ZERO_LABEL]: 'true',
      });
      await waitFor(async () => (await podsOf('agent')).length === 0, {
        timeoutMs: 20_000,
        what: 'target pods gone',
      });
      const zero = await waitFor(
        async () => {
          const o = await workload.observe(canary);
          return o.canary?.desiredReplicas === 0 && o.canary.replicas === 0 ? o : undefined;
        },
        { what: 'the target at zero' },
      );
      // Scaling is not a new revision, and the primary keeps running.
      expect(zero.targetRevision).toBe(seen.targetRevision);
      expect(nodesOf(await podsOf('agent-primary'))).toEqual(nodes);
    });

    it('a new template: scale up brings the target back; promote rolls the primary onto it', async () => {
      const stored = await readDaemonSet('agent');
      const container = stored.spec?.template.spec?.containers[0];
      if (container) container.env = [{ name: 'VERSION', value: 'v2' }];
      await apps.replaceNamespacedDaemonSet({ namespace: NS, name: 'agent', body: stored });
      const before = (await readDaemonSet('agent-primary')).metadata?.annotations?.[REVISION_ANNOTATION];
      const changed = await workload.observe(canary);
      expect(changed.targetRevision).not.toBe(before);

      expect(await workload.scaleTargetUp(canary)).toEqual({ ok: true, value: undefined });
      expect((await readDaemonSet('agent')).spec?.template.spec?.nodeSelector ?? {}).toEqual({});
      await waitFor(async () => nodesOf(await podsOf('agent')).join() === nodes.join(), {
        timeoutMs: 20_000,
        what: 'target pods on both nodes',
      });
      // Scaling back up is not a new revision either.
      expect((await workload.observe(canary)).targetRevision).toBe(changed.targetRevision);

      expect(await workload.promote(canary, 'stale')).toMatchObject({
        ok: false,
        field: 'spec.targetRef.name',
      });
      expect(await workload.promote(canary, changed.targetRevision)).toEqual({ ok: true, value: undefined });
      const primary = await readDaemonSet('agent-primary');
      expect(primary.spec?.template.spec?.containers[0]?.env).toEqual([{ name: 'VERSION', value: 'v2' }]);
      expect(primary.spec?.template.spec).not.toHaveProperty('nodeSelector');
      expect(primary.spec?.selector.matchLabels).toEqual({ app: 'agent-primary' });
      await waitFor(
        async () => {
          const o = await workload.observe(canary);
          const p = o.primary;
          return (
            p &&
            p.revision === changed.targetRevision &&
            p.updatedReplicas === 2 &&
            p.readyReplicas === 2 &&
            p.replicas === 2
          );
        },
        { timeoutMs: 20_000, what: 'the primary rolled onto the new template' },
      );
      const pods = await podsOf('agent-primary');
      expect(nodesOf(pods)).toEqual(nodes);
      for (const p of pods) expect(p.spec?.containers[0]?.env).toEqual([{ name: 'VERSION', value: 'v2' }]);
    });
  });

  it('a DaemonSet without a selector label is a problem naming the field, never a stuck canary', async () => {
    await apps.createNamespacedDaemonSet({
      namespace: NS,
      body: daemonSet('tiered', { matchLabels: { tier: 'node' } }),
    });
    const canary = await createParsedCanary(cluster.kc, daemonCanary('tiered'));
    const r = await workload.bootstrap(canary);
    expect(r).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    if (!r.ok)
      expect(r.message).toContain(
        'spec.selector.matchLabels must carry one of app, name, app.kubernetes.io/name',
      );
    const names = (await apps.listNamespacedDaemonSet({ namespace: NS })).items.map((d) => d.metadata?.name);
    expect(names).not.toContain('tiered-primary');
  });

  it('a missing DaemonSet is a problem, and an autoscalerRef on a DaemonSet names that field', async () => {
    const ghost = await createParsedCanary(cluster.kc, daemonCanary('ghost'));
    expect(await workload.observe(ghost)).toMatchObject({ canary: null, primary: null, targetRevision: '' });
    expect(await workload.bootstrap(ghost)).toMatchObject({ ok: false, field: 'spec.targetRef.name' });
    const scaled = {
      ...ghost,
      spec: {
        ...ghost.spec,
        autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' as const, name: 'h' },
      },
    };
    expect(await workload.bootstrap(scaled)).toMatchObject({ ok: false, field: 'spec.autoscalerRef' });
  });
});
