// The xDS benchmark's control channel between the benchmark (client side) and its control-plane child
// process (bench/xds-server.ts): the operations, their results, and the parent's end of the IPC.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerConfig {
  v1Port: number;
  v2Port: number;
  /** Services besides echo in the mesh model. */
  background: number;
}

/** Sent once by the child when its ADS server listens. */
export interface ServerReady {
  port: number;
  /** Per type URL: the proxyless resources an echo client needs (listener, its clusters, their EDS). */
  names: Record<string, string[]>;
}

export interface HeapSample {
  heapUsedBytes: number;
  rssBytes: number;
  /** False when the child runs without --expose-gc (then the sample is after a settle only). */
  collected: boolean;
}

export interface ChangeResult {
  /** Every expected stream ACKed the publish within the timeout. */
  ok: boolean;
  /** Streams that ACKed the new publish (the last one ends `ackMs`). */
  acked: number;
  /**
   * From the start of the change (weights set, publisher told) to the new snapshots being in the cache
   * (model, translation, encoding, consistency check done; no stream written yet).
   */
  snapshotMs: number;
  /** From the start of the change to the last expected stream's ACK. */
  ackMs: number;
  /** Resources encoded by this change: EncodedResource objects in the new snapshots not in the old. */
  encodes: number;
  /** DiscoveryResponses written to streams because of this change. */
  responses: number;
}

export interface ServerOps {
  /** Waits until exactly `streams` streams are connected and all have ACKed the current config. */
  synced: { args: { streams: number; timeoutMs: number }; result: { ok: boolean; proxies: number } };
  heap: { args: Record<string, never>; result: HeapSample };
  change: {
    args: { v1Percent: number; v2Percent: number; streams: number; timeoutMs: number };
    result: ChangeResult;
  };
  /** How many distinct Any buffers the streams were last sent for the echo listener (1 = shared). */
  shared: { args: Record<string, never>; result: { streams: number; listenerBuffers: number } };
}

export type OpName = keyof ServerOps;

export type ParentMessage = { id: number; op: OpName; args: unknown } | { id: number; op: 'stop' };
export type ChildMessage =
  { ready: ServerReady } | { id: number; result: unknown } | { id: number; error: string };

export interface ServerProcess {
  ready: ServerReady;
  call<K extends OpName>(
    op: K,
    args: ServerOps[K]['args'],
    timeoutMs: number,
  ): Promise<ServerOps[K]['result']>;
  /** Asks the child to close its server and exit; kills it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts bench/xds-server.ts in its own Node process with --expose-gc. */
export async function startServerProcess(
  config: ServerConfig,
  readyTimeoutMs = 30_000,
): Promise<ServerProcess> {
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xds-server.ts');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', entry, JSON.stringify(config)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = true;
      for (const p of pending.values())
        p.reject(new Error(`xds benchmark server exited with ${String(code)}`));
      pending.clear();
      resolve();
    });
  });
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('xds benchmark server did not start')), readyTimeoutMs);
    child.on('message', (m: ChildMessage) => {
      if ('ready' in m) {
        clearTimeout(timer);
        resolve(m.ready);
        return;
      }
      const p = pending.get(m.id);
      pending.delete(m.id);
      if ('error' in m) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error('xds benchmark server exited before it was ready'));
    });
  });
  let nextId = 1;
  return {
    ready,
    call: (op, args, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (exited) {
          reject(new Error('xds benchmark server is gone'));
          return;
        }
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`xds benchmark server: ${op} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as ServerOps[typeof op]['result']);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        const msg: ParentMessage = { id, op, args };
        child.send(msg);
      }),
    stop: async (timeoutMs = 10_000) => {
      if (exited) return;
      const msg: ParentMessage = { id: 0, op: 'stop' };
      child.send(msg);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
