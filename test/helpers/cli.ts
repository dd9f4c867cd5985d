// Test helper: runs the `fledge` bin as a user would (a child process) and reads its JSON log lines.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  exited: Promise<number | null>;
}

/** Spawns `bin/fledge.mjs <args>`; the caller kills the child when done (SIGKILL in a finally is safe). */
export function fledge(args: string[]): CliRun {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'fledge.mjs'), ...args], {
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
