// The generated flagger.app CRDs on the sandbox API server: Flagger's podinfo Canary is admitted unchanged,
// invalid Canaries are refused with field paths, and `kubectl get canary` columns come out as Flagger's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crdFileName } from '../../crds/crd.js';
import { flaggerCrds } from '../../crds/schema/flagger.js';
import type { SandboxServer } from '../../sandbox/apiserver/server.js';
import { startSandboxServer } from '../../sandbox/apiserver/server.js';
import type { JsonObject } from '../../sandbox/apiserver/types.js';
import { PODINFO_CANARY_YAML } from '../fixtures/podinfo-canary.js';
import { waitFor } from '../helpers/wait-for.js';

const crdDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../crds');

const canaries = '/apis/flagger.app/v1beta1/namespaces/test/canaries';
const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1';

describe('flagger.app CRDs on the sandbox API server', () => {
  let server: SandboxServer;
  const request = async (
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: JsonObject }> => {
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as JsonObject };
  };
  /** The podinfo manifest for an Istio cluster: Flagger's example with `provider: istio` set. */
  const podinfo = (): JsonObject => {
    const canary = YAML.parse(PODINFO_CANARY_YAML) as JsonObject;
    (canary.spec as JsonObject).provider = 'istio';
    return canary;
  };
  const causes = (json: JsonObject): string[] =>
    (((json.details as JsonObject | undefined)?.causes as JsonObject[] | undefined) ?? [])
      .map((c) => (typeof c.field === 'string' ? c.field : JSON.stringify(c.field)))
      .sort();

  beforeAll(async () => {
    server = await startSandboxServer();
    for (const def of flaggerCrds) {
      const created = await request(
        'POST',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        YAML.parse(readFileSync(path.join(crdDir, crdFileName(def)), 'utf8')),
      );
      expect(created.status, JSON.stringify(created.json)).toBe(201);
    }
    const ns = await request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'test' },
    });
    expect([201, 409]).toContain(ns.status);
    await waitFor(async () => (await request('GET', '/apis/flagger.app/v1beta1')).status === 200, {
      what: 'the flagger.app API',
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("admits Flagger's podinfo Canary unchanged", async () => {
    const created = await request('POST', canaries, podinfo());
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    // Nothing pruned, nothing defaulted: the stored spec is the manifest's.
    expect(created.json.spec).toEqual(podinfo().spec);
  });

  it('refuses invalid Canaries with the field paths', async () => {
    const bad = podinfo();
    (bad.metadata as JsonObject).name = 'bad';
    const spec = bad.spec as JsonObject;
    spec.provider = 'linkerd';
    spec.service = { name: 'podinfo' };
    (spec.analysis as JsonObject).stepWeight = 150;
    const refused = await request('POST', canaries, bad);
    expect(refused.status).toBe(422);
    expect(causes(refused.json)).toEqual(['spec.analysis.stepWeight', 'spec.provider', 'spec.service.port']);
    expect(refused.json.message).toContain('linkerd');
  });

  it('admits MetricTemplates and AlertProviders of known types only', async () => {
    const mt = (type: string): JsonObject => ({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: `t-${type}` },
      spec: { provider: { type, address: 'http://prometheus:9090' }, query: 'up' },
    });
    const mts = '/apis/flagger.app/v1beta1/namespaces/test/metrictemplates';
    expect((await request('POST', mts, mt('prometheus'))).status).toBe(201);
    const refused = await request('POST', mts, mt('stackdriver'));
    expect(refused.status).toBe(422);
    expect(causes(refused.json)).toEqual(['spec.provider.type']);

    const ap = await request('POST', '/apis/flagger.app/v1beta1/namespaces/test/alertproviders', {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'AlertProvider',
      metadata: { name: 'on-call' },
      spec: { type: 'slack', channel: 'general', address: 'https://hooks.slack.com/services/x' },
    });
    expect(ap.status, JSON.stringify(ap.json)).toBe(201);
  });

  it('prints the kubectl get canary columns of Flagger', async () => {
    const status = await request(
      'PATCH',
      `${canaries}/podinfo/status`,
      {
        status: {
          phase: 'Progressing',
          canaryWeight: 20,
          failedChecks: 1,
          lastTransitionTime: '2025-01-02T03:04:05Z',
        },
      },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(status.status, JSON.stringify(status.json)).toBe(200);

    const table = await request('GET', canaries, undefined, { accept: TABLE });
    expect(table.status).toBe(200);
    expect(table.json.kind).toBe('Table');
    const columns = (table.json.columnDefinitions as JsonObject[]).map((c) => [c.name, c.priority]);
    expect(columns).toEqual([
      ['Name', 0],
      ['Status', 0],
      ['Weight', 0],
      ['FailedChecks', 1],
      ['Interval', 1],
      ['Mirror', 1],
      ['StepWeight', 1],
      ['StepWeights', 1],
      ['MaxWeight', 1],
      ['LastTransitionTime', 0],
    ]);
    const rows = table.json.rows as JsonObject[];
    expect(rows).toHaveLength(1);
    // Flagger declares the numeric columns as type string, so they print as strings, as kubectl shows them.
    expect(rows[0]?.cells).toEqual([
      'podinfo',
      'Progressing',
      '20',
      '1',
      '1m',
      null,
      '10',
      null,
      '50',
      '2025-01-02T03:04:05Z',
    ]);
  });
});
