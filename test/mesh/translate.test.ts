// Golden tests of translate(): testdata/<case>.input.yaml → <case>.golden.json (both client kinds; UPDATE_GOLDEN=1
// rewrites), plus per output: proto field check, encoding, grpc-js-xds validation, references, shuffled-input determinism.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpcXds from '@grpc/grpc-js-xds';
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js';
import type { XdsDecodeContext } from '@grpc/grpc-js-xds/build/src/xds-resource-type/xds-resource-type.js';
import * as prettier from 'prettier';
import { beforeAll, describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import type { MeshInputs } from '../../mesh/model.js';
import { buildModel } from '../../mesh/model.js';
import { encodeResource, loadEnvoyProtos, typeOfUrl } from '../../mesh/protos.js';
import type { ClientKind, EnvoyResources, ProtoObject } from '../../mesh/translate/index.js';
import { translate, TYPE_URLS } from '../../mesh/translate/index.js';
import { inputsFromFile } from './inputs.js';
import { checkProtoObject } from './proto-check.js';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'translate', 'testdata');
const cases = readdirSync(testdata)
  .filter((f) => f.endsWith('.input.yaml'))
  .map((f) => f.slice(0, -'.input.yaml'.length))
  .sort();
const KINDS: ClientKind[] = ['sidecar', 'proxyless'];

const asObject = (m: ReadonlyMap<string, ProtoObject>): Record<string, ProtoObject> => Object.fromEntries(m);

/** The golden document of a case: problems of the build, then each client kind's resources. */
function render(inputs: MeshInputs): string {
  const { model, problems } = buildModel(inputs);
  const out: Record<string, unknown> = { problems };
  for (const kind of KINDS) {
    const r = translate(model, kind);
    out[kind] = {
      notes: r.notes,
      listeners: asObject(r.listeners),
      routes: asObject(r.routes),
      clusters: asObject(r.clusters),
      endpoints: asObject(r.endpoints),
    };
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** A small deterministic PRNG (mulberry32), so a failing shuffle can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Same objects, each list in another order and every object's keys in another order (arrays kept). */
function shuffleInputs(inputs: MeshInputs, seed: number): MeshInputs {
  const rand = prng(seed);
  const keys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(keys);
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(shuffled(Object.entries(v), rand).map(([k, x]) => [k, keys(x)]));
    return v;
  };
  const list = <T>(xs: readonly T[] | undefined): T[] => shuffled(xs ?? [], rand).map((x) => keys(x) as T);
  return {
    services: list(inputs.services),
    endpointSlices: list(inputs.endpointSlices),
    pods: list(inputs.pods),
    nodes: list(inputs.nodes),
    virtualServices: list(inputs.virtualServices),
    destinationRules: list(inputs.destinationRules),
  };
}

const RESOURCE_TYPES = [
  ['listeners', TYPE_URLS.listener],
  ['routes', TYPE_URLS.route],
  ['clusters', TYPE_URLS.cluster],
  ['endpoints', TYPE_URLS.endpoint],
] as const;

/** Every cluster name a listener or route refers to, and every RDS route name. */
function references(r: EnvoyResources): { clusters: Set<string>; routes: Set<string> } {
  const clusters = new Set<string>();
  const routes = new Set<string>();
  const walk = (v: unknown, key: string): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (key === 'weighted_clusters' && Array.isArray(o.clusters))
        for (const c of o.clusters as Array<{ name: string }>) clusters.add(c.name);
      if (typeof o.route_config_name === 'string') routes.add(o.route_config_name);
      for (const [k, x] of Object.entries(o)) {
        if (
          (k === 'cluster' && typeof x === 'string') ||
          (k === 'cluster' && key === 'request_mirror_policies')
        )
          clusters.add(x as string);
        walk(x, k);
      }
    }
  };
  for (const l of r.listeners.values()) walk(l, '');
  for (const rc of r.routes.values()) walk(rc, '');
  return { clusters, routes };
}

let root: protobuf.Root;
beforeAll(() => {
  root = loadEnvoyProtos();
  grpcXds.register(); // the proxyless client's HTTP filters, which its listener validation looks up
});

describe.each(cases)('%s', (name) => {
  const inputs = inputsFromFile(path.join(testdata, `${name}.input.yaml`));
  const golden = path.join(testdata, `${name}.golden.json`);
  const text = render(inputs);

  it('matches the golden file', async () => {
    // Formatted as the repository's prettier config does, so `prettier --check` leaves goldens alone.
    const options = { ...(await prettier.resolveConfig(golden)), parser: 'json' };
    const formatted = await prettier.format(text, options);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, formatted);
    expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(formatted).toBe(readFileSync(golden, 'utf8'));
  });

  it('is byte-identical from shuffled inputs', () => {
    for (const seed of [1, 2, 3]) expect(render(shuffleInputs(inputs, seed))).toBe(text);
  });

  describe.each(KINDS)('%s', (kind) => {
    const { model } = buildModel(inputs);
    const r = translate(model, kind);

    it('emits only fields the Envoy protos define, and every resource encodes', () => {
      for (const [field, typeUrl] of RESOURCE_TYPES)
        for (const [resourceName, resource] of r[field]) {
          expect(
            checkProtoObject(root, typeOfUrl(root, typeUrl), resource, `${field}[${resourceName}]`),
          ).toEqual([]);
          expect(encodeResource(root, typeUrl, resource).length).toBeGreaterThan(0);
        }
    });

    it('names each resource by its name field and leaves no reference dangling', () => {
      for (const [n, l] of r.listeners) expect(l.name).toBe(n);
      for (const [n, rc] of r.routes) expect(rc.name).toBe(n);
      for (const [n, c] of r.clusters) expect(c.name).toBe(n);
      for (const [n, e] of r.endpoints) expect(e.cluster_name).toBe(n);
      const refs = references(r);
      for (const c of refs.clusters) expect([...r.clusters.keys()]).toContain(c);
      for (const rc of refs.routes) expect([...r.routes.keys()]).toContain(rc);
      for (const [n, c] of r.clusters) if (c.type === 'EDS') expect([...r.endpoints.keys()]).toContain(n);
      if (kind === 'proxyless') expect(r.routes.size).toBe(0);
    });

    if (kind === 'proxyless')
      it("passes @grpc/grpc-js-xds's own resource validation", () => {
        const context = {
          server: {},
          bootstrap: { certificateProviders: {} },
        } as unknown as XdsDecodeContext;
        const decode = (
          type: {
            decode: (c: XdsDecodeContext, a: { type_url: string; value: Buffer }) => { error?: string };
          },
          typeUrl: string,
          resource: ProtoObject,
        ): string | undefined =>
          type.decode(context, {
            type_url: typeUrl,
            value: Buffer.from(encodeResource(root, typeUrl, resource)),
          }).error;
        for (const l of r.listeners.values())
          expect(decode(ListenerResourceType.get(), TYPE_URLS.listener, l)).toBeUndefined();
        for (const c of r.clusters.values())
          expect(decode(ClusterResourceType.get(), TYPE_URLS.cluster, c)).toBeUndefined();
        for (const e of r.endpoints.values())
          expect(decode(EndpointResourceType.get(), TYPE_URLS.endpoint, e)).toBeUndefined();
      });
  });
});

describe('proxyless inline route configs', () => {
  it('change name whenever their content changes, even when a change only adds a map entry', () => {
    const inputs = inputsFromFile(path.join(testdata, 'weights-90-10.input.yaml'));
    const routeConfigName = (i: MeshInputs): unknown => {
      const l = translate(buildModel(i).model, 'proxyless').listeners.get(
        'reviews.shop.svc.cluster.local:9080',
      );
      const hcm = (l?.api_listener as { api_listener: { route_config: { name: string } } }).api_listener;
      return hcm.route_config.name;
    };
    const withFault: MeshInputs = {
      ...inputs,
      virtualServices: inputs.virtualServices.map((vs) => {
        const spec = vs.spec as { http: Array<Record<string, unknown>> };
        return {
          ...vs,
          spec: { ...spec, http: spec.http.map((h) => ({ ...h, fault: { abort: { httpStatus: 503 } } })) },
        };
      }),
    };
    expect(routeConfigName(inputs)).toMatch(/^reviews\.shop\.svc\.cluster\.local:9080\/[0-9a-f]{16}$/);
    expect(routeConfigName(withFault)).not.toBe(routeConfigName(inputs));
    expect(routeConfigName(inputsFromFile(path.join(testdata, 'weights-90-10.input.yaml')))).toBe(
      routeConfigName(inputs),
    );
  });
});
