// Benchmark runner: `npm run bench` runs every benchmark, `npm run bench -- NAME` one of them.
// Each prints a table and writes bench/results/NAME.json: [{metric, value, unit, target}].
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchApiserver } from './apiserver.js';
import { benchKubelet } from './kubelet.js';
import { benchOperator } from './operator.js';
import { benchXds } from './xds.js';

export interface BenchMetric {
  metric: string;
  value: number;
  unit: string;
  /** Human-readable goal, e.g. ">= 2000"; empty when the metric is informational. */
  target: string;
}

const benches: Record<string, () => Promise<BenchMetric[]>> = {
  apiserver: benchApiserver,
  kubelet: benchKubelet,
  operator: benchOperator,
  xds: benchXds,
};

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = wanted.filter((w) => !(w in benches));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${Object.keys(benches).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const names = wanted.length > 0 ? wanted : Object.keys(benches);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  for (const name of names) {
    const run = benches[name] as () => Promise<BenchMetric[]>;
    console.log(`\n== ${name}`);
    const metrics = await run();
    console.table(metrics.map((m) => ({ metric: m.metric, value: m.value, unit: m.unit, target: m.target })));
    writeFileSync(path.join(here, 'results', `${name}.json`), `${JSON.stringify(metrics, null, 2)}\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
