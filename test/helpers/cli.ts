// Test helper: runs the `fledge` bin as a user would (a child process) and reads its JSON log lines.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * Spawns `bin/fledge.mjs <args>` (or another entry script, such as the bundled `cli/fledge.js`); the caller
 * kills the child when done (SIGKILL in a finally is safe).
 */
export function fledge(args: string[], entry = path.join(root, 'bin', 'fledge.mjs')): CliRun {
  const child = spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const isRecord = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null;

/** The JSON log lines of a run, parsed (other lines skipped). */
export const jsonLogs = (run: CliRun): Array<Record<string, unknown>> =>
  run.lines.flatMap((l) => {
    try {
      const o: unknown = JSON.parse(l);
      return isRecord(o) ? [o] : [];
    } catch {
      return [];
    }
  });

/** `fledge operator` flags for a test: the given kubeconfig, free loopback ports. */
export const operatorArgs = (kubeconfigPath: string): string[] => [
  'operator',
  '--kubeconfig',
  kubeconfigPath,
  '--xds-port',
  '0',
  '--http-port',
  '0',
  '--host',
  '127.0.0.1',
];

/** Waits for the run's "<what> listening" JSON log line (failing at once if it exits first); returns it. */
export async function waitListening(
  run: CliRun,
  what = 'fledge operator',
): Promise<{ httpPort: number; xdsPort?: number }> {
  const line = await waitFor(
    () => {
      if (run.child.exitCode !== null) throw new Error(`exited early:\n${run.lines.join('\n')}`);
      return jsonLogs(run).find((l) => l['msg'] === `${what} listening`);
    },
    { what: `the "${what} listening" log line`, timeoutMs: 30_000 },
  );
  return line as { httpPort: number; xdsPort?: number };
}
