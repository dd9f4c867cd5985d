// End to end through the assembled mesh with the real @grpc/grpc-js-xds client: header-match routes (exact and
// regex), fault aborts, retries, RING_HASH by header, and weighted DestinationRule subsets selected by pod labels.
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EchoResult } from '../../sandbox/demo-app/proto.js';
import { waitFor } from '../helpers/wait-for.js';
import type { MetadataClient } from './mesh-fixture.js';
import { MeshFixture, NS, PORT, runCalls, tally } from './mesh-fixture.js';

grpcXds.register();

const to = (host: string, extra: object = {}): object => ({
  destination: { host, port: { number: PORT } },
  ...extra,
});

/** Writes VirtualService `name` and waits until every connected proxy ACKed it. */
async function applyRoute(f: MeshFixture, name: string, spec: object): Promise<void> {
  const gen = await f.virtualService(name, spec);
  expect(await f.mesh.waitForRoute(NS, name, gen, { timeoutMs: 10_000 })).toMatchObject({ ok: true });
}

/** A client of `host` that answered one call (the fault route may fail some, so wait for a success). */
async function connected(f: MeshFixture, host: string, opts: object = {}): Promise<MetadataClient> {
  const c = f.metadataClient(host, opts);
  await waitFor(async () => (await c.echo({ message: 'warm-up' })).ok, {
    what: `a first call to ${host}`,
    timeoutMs: 15_000,
  });
  return c;
}

/** |observed − expected| for a binomial count, in standard deviations. */
const deviations = (observed: number, n: number, p: number): number =>
  Math.abs(observed - n * p) / Math.sqrt(n * p * (1 - p));

const headerSpec = (match: object): object => ({
  hosts: ['hdr'],
  http: [
    { name: 'canary', match: [{ headers: { 'x-canary': match } }], route: [to('hdr-canary')] },
    { name: 'primary', route: [to('hdr-primary')] },
  ],
});

const retrySpec = (retries: object | undefined): object => ({
  hosts: ['flaky'],
  http: [{ route: [to('flaky')], ...(retries ? { retries } : {}) }],
});

const subsetSpec = (v1: number, v2: number): object => ({
  hosts: ['sub'],
  http: [
    {
      route: [
        { destination: { host: 'sub', subset: 'v1', port: { number: PORT } }, weight: v1 },
        { destination: { host: 'sub', subset: 'v2', port: { number: PORT } }, weight: v2 },
      ],
    },
  ],
});

describe('mesh features end to end (sandbox API server → mesh → grpc-js-xds)', () => {
  const f = new MeshFixture();

  beforeAll(async () => {
    await f.start();
    await f.backend('hdr-primary');
    await f.backend('hdr-canary');
    await f.service('hdr', []);
    await f.backend('flt');
    await f.backend('flaky', { errorRate: 0.5 });
    await f.pool('ring', [
      { version: 'ring-a' },
      { version: 'ring-b' },
      { version: 'ring-c' },
      { version: 'ring-d' },
    ]);
    await f.destinationRule('ring', {
      host: 'ring',
      trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } },
    });
    await f.pool('sub', [
      { version: 'sub-v1-a', labels: { app: 'sub', version: 'v1' } },
      { version: 'sub-v1-b', labels: { app: 'sub', version: 'v1' } },
      { version: 'sub-v2-a', labels: { app: 'sub', version: 'v2' } },
    ]);
    await f.destinationRule('sub', {
      host: 'sub',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    });
    await f.virtualService('hdr', headerSpec({ exact: 'yes' }));
    await f.virtualService('sub', subsetSpec(100, 0));
    await f.startMesh();
  }, 60_000);

  afterAll(async () => {
    await f.stop();
  });

  it('routes calls with x-canary: yes (exact) to the canary only and every other call to the primary only', async () => {
    await applyRoute(f, 'hdr', headerSpec({ exact: 'yes' }));
    const c = await connected(f, 'hdr');
    const matching = tally(await runCalls(500, () => c.echo({ message: 'm' }, { 'x-canary': 'yes' })));
    const other = tally(await runCalls(500, () => c.echo({ message: 'm' }, { 'x-canary': 'no' })));
    const none = tally(await runCalls(500, () => c.echo({ message: 'm' })));
    expect({ matching, other, none }).toEqual({
      matching: { 'hdr-canary': 500 },
      other: { 'hdr-primary': 500 },
      none: { 'hdr-primary': 500 },
    });
  }, 60_000);

  it('routes by a regex header match, which must match the whole value', async () => {
    await applyRoute(f, 'hdr', headerSpec({ regex: 'beta-[a-z]+' }));
    const c = await connected(f, 'hdr');
    const values = ['beta-tester', 'beta-x', 'beta-', 'xbeta-tester', 'beta-tester-2', 'BETA-tester'];
    const results = await runCalls(600, (i) =>
      c.echo({ message: 'm' }, { 'x-canary': values[i % values.length] ?? '' }),
    );
    const byValue: Record<string, Record<string, number>> = {};
    results.forEach((r, i) => {
      const v = values[i % values.length] ?? '';
      const key = r.ok ? r.value.version : `error:${r.codeName}`;
      const counts = (byValue[v] ??= {});
      counts[key] = (counts[key] ?? 0) + 1;
    });
    expect(byValue).toEqual({
      'beta-tester': { 'hdr-canary': 100 },
      'beta-x': { 'hdr-canary': 100 },
      'beta-': { 'hdr-primary': 100 },
      'xbeta-tester': { 'hdr-primary': 100 },
      'beta-tester-2': { 'hdr-primary': 100 },
      'BETA-tester': { 'hdr-primary': 100 },
    });
  }, 60_000);

  it.each([
    { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 30 } }, code: 'UNAVAILABLE' },
    { abort: { grpcStatus: 'PERMISSION_DENIED', percentage: { value: 30 } }, code: 'PERMISSION_DENIED' },
  ])(
    'aborts about 30% of 2,000 calls with $code (fault.abort), within 5 standard deviations',
    async ({ abort, code }) => {
      await applyRoute(f, 'flt', { hosts: ['flt'], http: [{ route: [to('flt')], fault: { abort } }] });
      const c = await connected(f, 'flt');
      const counts = tally(await runCalls(2000, () => c.echo({ message: 'm' })));
      expect(Object.keys(counts).sort()).toEqual([`error:${code}`, 'flt'].sort());
      const aborted = counts[`error:${code}`] ?? 0;
      // sd = sqrt(2000 · 0.3 · 0.7) ≈ 20.5 calls: 5 sd is ±103 around 600.
      expect(deviations(aborted, 2000, 0.3)).toBeLessThan(5);
    },
    60_000,
  );

  it('a backend failing half its calls with UNAVAILABLE: ~50% errors without retries, ~12.5% with the default 2, none with 9', async () => {
    // grpc-js caps attempts at 5 unless the channel allows more (grpc-node.retry_max_attempts_limit).
    const c = await connected(f, 'flaky', { 'grpc-node.retry_max_attempts_limit': 10 });
    const failures = async (n: number): Promise<number> =>
      (await runCalls(n, () => c.echo({ message: 'm' }))).filter((r: EchoResult) => !r.ok).length;

    await applyRoute(f, 'flaky', retrySpec({ attempts: 0 }));
    const none = await failures(1000);
    // p = 0.5, sd ≈ 15.8 calls.
    expect(deviations(none, 1000, 0.5)).toBeLessThan(5);

    await applyRoute(f, 'flaky', retrySpec(undefined));
    const defaults = await failures(1000);
    // SPEC §4.3 default: 2 retries on unavailable → 3 tries, p = 0.125, sd ≈ 10.5 calls.
    expect(deviations(defaults, 1000, 0.125)).toBeLessThan(5);

    await applyRoute(f, 'flaky', retrySpec({ attempts: 9, retryOn: 'unavailable' }));
    const nine = await failures(1000);
    // 10 tries: p = 0.5^10 ≈ 0.001, ~1 failure expected; P(more than 10) < 1e-8.
    expect(nine).toBeLessThanOrEqual(10);
  }, 120_000);

  it('RING_HASH on x-user: every call of one user lands on one backend, and users spread over several', async () => {
    await applyRoute(f, 'ring', { hosts: ['ring'], http: [{ route: [to('ring')] }] });
    const c = await connected(f, 'ring');
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const results = await runCalls(2000, (i) => c.echo({ message: 'm' }, { 'x-user': users[i % 40] ?? '' }));
    const seen = new Map<string, Set<string>>();
    results.forEach((r, i) => {
      const u = users[i % 40] ?? '';
      const set = seen.get(u) ?? new Set<string>();
      set.add(r.ok ? r.value.version : `error:${r.codeName}`);
      seen.set(u, set);
    });
    const split = [...seen].filter(([, s]) => s.size !== 1).map(([u, s]) => `${u}: ${[...s].join(',')}`);
    expect(split).toEqual([]);
    const backends = new Set([...seen.values()].flatMap((s) => [...s]));
    expect([...backends].every((b) => b.startsWith('ring-'))).toBe(true);
    // With 4 equal endpoints, 40 users all hashing to one backend has probability 4 · 4^-40.
    expect(backends.size).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('weights between DestinationRule subsets follow pod labels: 100/0, 0/100, then 25/75 over 2,000 calls', async () => {
    const c = await connected(f, 'sub');
    await applyRoute(f, 'sub', subsetSpec(100, 0));
    const v1 = tally(await runCalls(300, () => c.echo({ message: 'm' })));
    expect(Object.keys(v1).sort()).toEqual(['sub-v1-a', 'sub-v1-b']);

    await applyRoute(f, 'sub', subsetSpec(0, 100));
    expect(tally(await runCalls(300, () => c.echo({ message: 'm' })))).toEqual({ 'sub-v2-a': 300 });

    await applyRoute(f, 'sub', subsetSpec(25, 75));
    const mixed = tally(await runCalls(2000, () => c.echo({ message: 'm' })));
    expect(Object.keys(mixed).sort()).toEqual(['sub-v1-a', 'sub-v1-b', 'sub-v2-a']);
    const toV1 = (mixed['sub-v1-a'] ?? 0) + (mixed['sub-v1-b'] ?? 0);
    // sd = sqrt(2000 · 0.25 · 0.75) ≈ 19.4 calls.
    expect(deviations(toV1, 2000, 0.25)).toBeLessThan(5);
  }, 60_000);
});
