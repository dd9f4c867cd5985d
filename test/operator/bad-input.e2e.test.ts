// Bad Canaries end to end (SPEC §7 "bad input"): with the operator running on a sandbox cluster, the CRD schema
// refuses what it can (422 naming the field); every accepted-but-invalid Canary gets a Validated=False condition
// and a Warning event naming the field and nothing else, while a valid canary beside them is initialized; and a
// fixed canary then proceeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../../crds/schema/flagger.js';
import type { Operator } from '../../operator/main.js';
import { startOperator } from '../../operator/main.js';
import { VALIDATED } from '../../operator/reconcile.js';
import type { SandboxCluster } from '../../sandbox/cluster.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import {
  apply,
  canariesPath,
  deploymentsPath,
  read,
  testCanary,
  testDeployment,
} from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import { waitFor } from '../helpers/wait-for.js';
import { testLogger } from '../helpers/log.js';

const NS = 'default';

interface StoredCanary {
  status?: CanaryStatus;
}

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

/** An API error Status as the API server sends it. */
interface Status {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ field?: string; message?: string }> };
}

/** Accepted by the CRD schema, refused by the operator: canary name, target, the field its problem names. */
const INVALID = [
  { name: 'ghost', create: () => testCanary(NS, 'ghost'), field: 'spec.targetRef.name', target: false },
  {
    name: 'no-template',
    create: () =>
      testCanary(NS, 'no-template', {
        analysis: {
          metrics: [
            { name: 'error-rate', templateRef: { name: 'no-such-template' }, thresholdRange: { max: 1 } },
          ],
        },
      }),
    field: 'spec.analysis.metrics[0].templateRef',
    target: true,
  },
  {
    name: 'steep',
    create: () => testCanary(NS, 'steep', { analysis: { stepWeight: 60, maxWeight: 50 } }),
    field: 'spec.analysis.stepWeight',
    target: true,
  },
] as const;

describe('bad Canaries on a running operator (sandbox)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;

  const canary = async (name: string): Promise<StoredCanary> => {
    const c = await read<StoredCanary>(cluster.kc, `${canariesPath(NS)}/${name}`);
    if (!c) throw new Error(`Canary ${name} is gone`);
    return c;
  };
  const validated = async (name: string) =>
    (await canary(name)).status?.conditions?.find((c) => c.type === VALIDATED);
  const warnings = async (name: string): Promise<KubeEvent[]> => {
    const list = await read<{ items: KubeEvent[] }>(cluster.kc, `/api/v1/namespaces/${NS}/events`);
    return (list?.items ?? []).filter(
      (e) => e.involvedObject?.kind === 'Canary' && e.involvedObject.name === name && e.type === 'Warning',
    );
  };
  /** The objects bootstrap would create for a canary named like its target (SPEC §3.1). */
  const bootstrapObjects = async (name: string): Promise<string[]> => {
    const paths = [
      `${deploymentsPath(NS)}/${name}-primary`,
      ...[name, `${name}-primary`, `${name}-canary`].map((s) => `/api/v1/namespaces/${NS}/services/${s}`),
      `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/${name}`,
      ...[`${name}-primary`, `${name}-canary`].map(
        (d) => `/apis/networking.istio.io/v1/namespaces/${NS}/destinationrules/${d}`,
      ),
    ];
    const found = await Promise.all(paths.map(async (p) => ((await read(cluster.kc, p)) ? [p] : [])));
    return found.flat();
  };

  beforeAll(async () => {
    cluster = await startSandboxCluster();
    await installCrds(cluster.kc);
    operator = await startOperator({
      kc: cluster.kc,
      log: testLogger('bad-input.e2e'),
      metricsServer: 'http://127.0.0.1:1',
      xdsPort: 0,
    });
  }, 60_000);

  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
  }, 30_000);

  it('the CRD schema refuses a Canary without service.port and one with provider linkerd (422 naming the field)', async () => {
    const noPort = testCanary(NS, 'no-port');
    noPort.spec['service'] = { name: 'no-port' };
    const linkerd = testCanary(NS, 'linkerd', { spec: { provider: 'linkerd' } });
    for (const [body, field] of [
      [noPort, 'spec.service.port'],
      [linkerd, 'spec.provider'],
    ] as const) {
      const res = await apply(cluster.kc, canariesPath(NS), body);
      expect(res.status).toBe(422);
      const status = res.body as Status;
      expect(status.reason).toBe('Invalid');
      expect(status.message).toContain(field);
      expect(status.details?.causes?.map((c) => c.field)).toContain(field);
    }
    expect(await read(cluster.kc, `${canariesPath(NS)}/no-port`)).toBeNull();
    expect(await read(cluster.kc, `${canariesPath(NS)}/linkerd`)).toBeNull();
  });

  it('reports each accepted-but-invalid Canary by field, creates nothing for it, and initializes a valid one meanwhile', async () => {
    for (const bad of INVALID) {
      if (bad.target)
        expect((await apply(cluster.kc, deploymentsPath(NS), testDeployment(NS, bad.name))).status).toBe(201);
      expect((await apply(cluster.kc, canariesPath(NS), bad.create())).status).toBe(201);
    }
    expect((await apply(cluster.kc, deploymentsPath(NS), testDeployment(NS, 'good'))).status).toBe(201);
    expect((await apply(cluster.kc, canariesPath(NS), testCanary(NS, 'good'))).status).toBe(201);

    for (const bad of INVALID) {
      const condition = await waitFor(
        async () => {
          const c = await validated(bad.name);
          return c?.status === 'False' ? c : undefined;
        },
        { what: `Validated=False on ${bad.name}`, timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(condition.reason).toBe('InvalidSpec');
      expect(condition.message).toContain(`${bad.field}:`);
      const events = await waitFor(
        async () => {
          const ws = await warnings(bad.name);
          return ws.length > 0 ? ws : undefined;
        },
        { what: `a Warning event on ${bad.name}`, timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(events.map((e) => e.reason)).toEqual(['InvalidSpec']);
      expect(events[0]?.message).toContain(`${bad.field}:`);
    }

    await waitFor(async () => (await canary('good')).status?.phase === 'Initialized', {
      what: 'the valid canary to be Initialized',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect((await validated('good'))?.status).toBe('True');
    expect(await bootstrapObjects('good')).toHaveLength(7);

    // By now the operator has reconciled every canary at least once: nothing exists for the invalid ones, and
    // their status carries nothing but the Validated condition.
    for (const bad of INVALID) {
      expect(await bootstrapObjects(bad.name)).toEqual([]);
      const s = (await canary(bad.name)).status;
      expect(s?.phase).toBeUndefined();
      expect(s?.conditions?.map((c) => c.type)).toEqual([VALIDATED]);
    }
  }, 120_000);

  it('a fixed Canary proceeds: once its target exists it is initialized and Validated turns True', async () => {
    expect((await validated('ghost'))?.status).toBe('False');
    expect((await apply(cluster.kc, deploymentsPath(NS), testDeployment(NS, 'ghost'))).status).toBe(201);
    await waitFor(async () => (await canary('ghost')).status?.phase === 'Initialized', {
      what: 'the fixed canary to be Initialized',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const condition = await validated('ghost');
    expect(condition?.status).toBe('True');
    expect(condition?.reason).toBe('Valid');
    expect(await bootstrapObjects('ghost')).toHaveLength(7);
    // The other invalid canaries stay as they were.
    for (const bad of INVALID.filter((b) => b.name !== 'ghost')) {
      expect((await validated(bad.name))?.status).toBe('False');
      expect(await bootstrapObjects(bad.name)).toEqual([]);
    }
  }, 90_000);
});
