// The committed CRD YAML is exactly what the zod schemas generate, and the sandbox API server
// accepts it and enforces it: valid objects in, invalid values refused with field paths,
// fields outside the supported subset kept for the mesh to report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crdFileName, crdYaml } from '../../crds/crd.js';
import { allCrds } from '../../crds/index.js';
import type { SandboxServer } from '../../sandbox/apiserver/server.js';
import { startSandboxServer } from '../../sandbox/apiserver/server.js';
import type { JsonObject } from '../../sandbox/apiserver/types.js';
import { waitFor } from '../helpers/wait-for.js';

const crdDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../crds');

describe('generated CRDs', () => {
  it.each(allCrds.map((d) => [crdFileName(d), d] as const))(
    '%s matches the zod schema (run `npm run crds` after a change)',
    (file, def) => {
      expect(readFileSync(path.join(crdDir, file), 'utf8')).toBe(crdYaml(def));
    },
  );
});

describe('networking CRDs on the sandbox API server', () => {
  let server: SandboxServer;
  const request = async (
    method: string,
    p: string,
    body?: unknown,
  ): Promise<{ status: number; json: JsonObject }> => {
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as JsonObject };
  };

  beforeAll(async () => {
    server = await startSandboxServer();
    for (const def of allCrds) {
      const created = await request(
        'POST',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        YAML.parse(readFileSync(path.join(crdDir, crdFileName(def)), 'utf8')),
      );
      expect(created.status, JSON.stringify(created.json)).toBe(201);
    }
    await waitFor(async () => (await request('GET', '/apis/networking.istio.io/v1alpha3')).status === 200, {
      what: 'the networking API',
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const vs = (name: string, http: unknown[], version = 'v1'): JsonObject => ({
    apiVersion: `networking.istio.io/${version}`,
    kind: 'VirtualService',
    metadata: { name },
    spec: { hosts: ['podinfo'], http: http as JsonObject[] },
  });

  it('serves the three versions of the same objects', async () => {
    const created = await request(
      'POST',
      '/apis/networking.istio.io/v1beta1/namespaces/default/virtualservices',
      vs(
        'split',
        [
          {
            route: [
              { destination: { host: 'podinfo-primary' }, weight: 90 },
              { destination: { host: 'podinfo-canary' }, weight: 10 },
            ],
          },
        ],
        'v1beta1',
      ),
    );
    expect(created.status).toBe(201);
    const v1 = await request('GET', '/apis/networking.istio.io/v1/namespaces/default/virtualservices/split');
    expect(v1.json.apiVersion).toBe('networking.istio.io/v1');
    expect((v1.json.spec as JsonObject).http).toEqual([
      {
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 90 },
          { destination: { host: 'podinfo-canary' }, weight: 10 },
        ],
      },
    ]);
  });

  it('refuses invalid values with the field path', async () => {
    const bad = await request(
      'POST',
      '/apis/networking.istio.io/v1/namespaces/default/virtualservices',
      vs('bad', [{ route: [{ destination: { host: 'podinfo' }, weight: -5 }], timeout: 'soon' }]),
    );
    expect(bad.status).toBe(422);
    const fields = (((bad.json.details as JsonObject).causes as JsonObject[]) ?? [])
      .map((c) => c.field)
      .sort();
    expect(fields).toEqual(['spec.http[0].route[0].weight', 'spec.http[0].timeout']);
  });

  it('keeps fields outside the supported subset, so the mesh can name them', async () => {
    const created = await request(
      'POST',
      '/apis/networking.istio.io/v1/namespaces/default/virtualservices',
      vs('extra', [{ route: [{ destination: { host: 'podinfo' } }], directResponse: { status: 503 } }]),
    );
    expect(created.status).toBe(201);
    expect(((created.json.spec as JsonObject).http as JsonObject[])[0]?.directResponse).toEqual({
      status: 503,
    });
  });
});
