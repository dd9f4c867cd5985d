// Running a webhook's shell command (`cmd` through sh -c, `bash` through bash -c) with a timeout: the whole
// process group is killed on timeout or abort, so no grandchild outlives the call.
import { spawn } from 'node:child_process';

export type Shell = 'sh' | 'bash';

export interface CommandResult {
  ok: boolean;
  /** Null when the process was killed by a signal. */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** Combined stdout and stderr, at most maxOutputBytes (the start is kept). */
  output: string;
  /** Why it failed, for a human; empty when ok. */
  message: string;
}

export interface RunCommandOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Default 64 KiB. */
  maxOutputBytes?: number;
}

/** Runs `command` with `shell -c`. Resolves (never rejects) when the process and its output are done. */
export function runCommand(shell: Shell, command: string, opts: RunCommandOptions): Promise<CommandResult> {
  const maxOutputBytes = opts.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const child = spawn(shell, ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const keep = (chunk: Buffer): void => {
      if (kept >= maxOutputBytes) return;
      const part = chunk.subarray(0, maxOutputBytes - kept);
      chunks.push(part);
      kept += part.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (exitCode: number | null, spawnError?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const output = Buffer.concat(chunks).toString('utf8');
      const ok = spawnError === undefined && exitCode === 0 && !timedOut && !aborted;
      let message = '';
      if (spawnError !== undefined) message = `could not start ${shell}: ${spawnError.message}`;
      else if (timedOut) message = `timed out after ${opts.timeoutMs} ms`;
      else if (aborted) message = 'aborted';
      else if (!ok) message = exitCode === null ? 'killed by a signal' : `exit status ${exitCode}`;
      resolve({ ok, exitCode, timedOut, aborted, output, message });
    };
    child.once('error', (err) => done(null, err));
    child.once('close', (code) => done(code));
  });
}
