// Test helper: the recorded kube-apiserver v1.26 fixtures (shared/fixtures/kube-apiserver-v1.26/*.json) and
// the narrowing helpers the tests that replay them use.
import { readFileSync } from 'node:fs';
import type { Json, JsonObject } from '../../sandbox/apiserver/types.js';
import { isObject } from '../../sandbox/apiserver/types.js';

/** One recorded request and the answer the real server gave, as stored in a fixture file. */
export interface FixtureExchange {
  /** Absent on some exchanges of 01-discovery.json. */
  step?: string;
  request: { method: string; path: string; headers: Record<string, string>; body: Json };
  response: { status: number; headers: Record<string, Json>; body: Json };
}

/** A fixture file's parsed JSON; `file` is a name inside the fixture folder, e.g. "12-table.json". */
function parseFixture(file: string): unknown {
  const url = new URL(`../../../shared/fixtures/kube-apiserver-v1.26/${file}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** A fixture file that is not a list of exchanges (kubectl-output.json), as plain JSON. */
export const readFixture = (file: string): Json => parseFixture(file) as Json;

/** The recorded exchanges of a fixture file, in recording order. */
export function fixtureExchanges(file: string): FixtureExchange[] {
  const { exchanges } = parseFixture(file) as { exchanges?: FixtureExchange[] };
  if (!Array.isArray(exchanges)) throw new Error(`${file}: no exchanges`);
  return exchanges;
}

/** Exchange `index` of a fixture file; throws when the file has fewer. */
export function fixtureExchange(file: string, index: number): FixtureExchange {
  const ex = fixtureExchanges(file)[index];
  if (!ex) throw new Error(`${file} has no exchange ${index}`);
  return ex;
}

// Narrowing of recorded JSON: each throws, showing the value, when it has another shape.

export function asObject(v: Json | undefined): JsonObject {
  if (!isObject(v)) throw new Error(`not an object: ${JSON.stringify(v)}`);
  return v;
}

export function asArray(v: Json | undefined): Json[] {
  if (!Array.isArray(v)) throw new Error(`not an array: ${JSON.stringify(v)}`);
  return v;
}

export function asString(v: Json | undefined): string {
  if (typeof v !== 'string') throw new Error(`not a string: ${JSON.stringify(v)}`);
  return v;
}
