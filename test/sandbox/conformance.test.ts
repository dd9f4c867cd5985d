// Replays the recorded kube-apiserver v1.26 exchanges (../shared/fixtures) against the sandbox API
// server with the shared conformance tool. Every exchange must match, except the documented known
// differences in conformance-known-differences.json — and those must still differ, so the list
// shrinks as soon as one is fixed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../../sandbox/apiserver/server.js';
import { randomToken, startSandboxServer } from '../../sandbox/apiserver/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tool = path.resolve(here, '../../../shared/tools/kube-conformance.mjs');

interface ExchangeResult {
  index: number;
  step: string | null;
  method: string;
  path: string;
  result: 'match' | 'mismatch' | 'skipped';
  diffs: { text: string }[];
}
interface Report {
  totals: { passed: number; failed: number; skipped: number };
  scenarios: { file: string; scenario: string; exchanges: ExchangeResult[] }[];
}

describe('kube-apiserver v1.26 conformance replay', () => {
  let server: SandboxServer;
  const token = randomToken();
  const dir = mkdtempSync(path.join(tmpdir(), 'fledge-conformance-'));
  let report: Report;
  let output = '';

  beforeAll(async () => {
    expect(
      existsSync(tool),
      `conformance tool not found at ${tool} (shared/ must sit beside the repository)`,
    ).toBe(true);
    // The recording came from a server with --service-cluster-ip-range=10.0.0.0/24; its messages name it.
    server = await startSandboxServer({ token, serviceCidr: '10.0.0.0/24' });
    const out = path.join(dir, 'report.json');
    output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [tool, '--server', server.url, '--token', token, '--json', out],
        { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
        (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays every recorded exchange', () => {
    const known = (
      JSON.parse(readFileSync(path.join(here, 'conformance-known-differences.json'), 'utf8')) as {
        exchange: string;
      }[]
    ).map((k) => k.exchange);
    const differing = report.scenarios.flatMap((s) =>
      s.exchanges
        .filter((e) => e.result !== 'match')
        .map((e) => ({ id: `${s.file.slice(0, 2)}#${e.index}`, s, e })),
    );
    const unexpected = differing
      .filter((d) => !known.includes(d.id))
      .map(
        ({ id, e }) =>
          `${id} ${e.method} ${e.path} -- ${e.step ?? ''}\n      ${e.diffs.map((x) => x.text).join('\n      ')}`,
      );
    console.log(
      `kube-apiserver conformance: ${report.totals.passed} of 288 exchanges match; known differences: ${known.join(', ') || 'none'}`,
    );
    expect(report.totals.passed + report.totals.failed + report.totals.skipped).toBe(288);
    expect(
      unexpected,
      `exchanges that differ from kube-apiserver:\n${unexpected.join('\n')}\n\n${output.slice(-2000)}`,
    ).toEqual([]);
    // A known difference that now matches must leave the list.
    expect(differing.map((d) => d.id).sort()).toEqual([...known].sort());
  });
});
