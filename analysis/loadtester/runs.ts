// The load tester's background runs (`cmd` commands and built-in loads): bounded in number, deduplicated per
// canary like Flagger's task runner (the same work is not started twice while it runs), and listed for humans.
export type RunKind = 'cmd' | 'http' | 'grpc';
export type RunState = 'running' | 'succeeded' | 'failed';

/** A run as GET /runs shows it. Mutated in place while the run goes on. */
export interface RunStatus {
  id: string;
  /** name.namespace of the canary that asked for it. */
  canary: string;
  kind: RunKind;
  /** The command, or the load's target. */
  what: string;
  state: RunState;
  startedAt: string;
  finishedAt?: string;
  /** Why it failed, or how it ended. */
  message?: string;
  /** Loads: requests sent so far and results by code. */
  sent?: number;
  codes?: Record<string, number>;
}

export interface RunOutcome {
  state: 'succeeded' | 'failed';
  message?: string;
}

export type StartResult =
  | { started: true; run: RunStatus }
  | { started: false; reason: 'already-running'; run: RunStatus }
  | { started: false; reason: 'busy'; active: number };

interface ActiveRun {
  status: RunStatus;
  abort: AbortController;
  done: Promise<void>;
}

export interface RunsOptions {
  /** Background runs at once, all kinds together. */
  maxActive: number;
  /** Finished runs kept for GET /runs. */
  maxHistory: number;
  /** Told when a run starts and ends (for metrics and logs). */
  onStart?: (run: RunStatus) => void;
  onEnd?: (run: RunStatus) => void;
}

export class Runs {
  private readonly active = new Map<string, ActiveRun>();
  private readonly history: RunStatus[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: RunsOptions) {}

  /**
   * Starts `work` in the background unless a run with the same `key` is still going or the limit is reached.
   * `work` must honour its signal and must not reject (a rejection is recorded as a failed run).
   */
  start(
    key: string,
    init: Pick<RunStatus, 'canary' | 'kind' | 'what'>,
    work: (signal: AbortSignal, status: RunStatus) => Promise<RunOutcome>,
  ): StartResult {
    const existing = this.active.get(key);
    if (existing !== undefined) return { started: false, reason: 'already-running', run: existing.status };
    if (this.closed || this.active.size >= this.opts.maxActive)
      return { started: false, reason: 'busy', active: this.active.size };
    const status: RunStatus = {
      id: String(this.nextId++),
      ...init,
      state: 'running',
      startedAt: new Date().toISOString(),
    };
    const abort = new AbortController();
    this.opts.onStart?.(status);
    const done = work(abort.signal, status)
      .catch((err: unknown): RunOutcome => ({ state: 'failed', message: String(err) }))
      .then((outcome) => {
        status.state = outcome.state;
        if (outcome.message !== undefined) status.message = outcome.message;
        status.finishedAt = new Date().toISOString();
        this.active.delete(key);
        this.history.push(status);
        if (this.history.length > this.opts.maxHistory) this.history.shift();
        this.opts.onEnd?.(status);
      });
    this.active.set(key, { status, abort, done });
    return { started: true, run: status };
  }

  /** Running runs first, then finished ones, newest last. */
  list(): RunStatus[] {
    return [...[...this.active.values()].map((r) => r.status), ...this.history];
  }

  /** Refuses new runs, aborts the running ones and resolves when they have ended. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.active.values()];
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done));
  }
}
