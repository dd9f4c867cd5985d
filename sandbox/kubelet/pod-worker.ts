// One pod on a sandbox node: its containers as local processes (or virtual containers for images
// that are not sandbox programs), their probes, restarts with back-off, and graceful termination.
// Every state change calls onChange; the kubelet turns the view into a status patch.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Program } from './programs.js';
import { parseImage, programFor } from './programs.js';
import type { ProbeSpec } from './probes.js';
import { parseProbe, runProbe } from './probes.js';
import type { ContainerView, PodView } from './status.js';

export interface WorkerOptions {
  programs: readonly Program[];
  /** First restart delay; doubles per crash up to backoffMaxMs (kube: 10 s and 300 s). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Resolves env valueFrom configMapKeyRef / secretKeyRef; undefined when missing. */
  lookupKey: (
    kind: 'ConfigMap' | 'Secret',
    namespace: string,
    name: string,
    key: string,
  ) => Promise<string | undefined>;
  onChange: () => void;
  /** Last lines of a container's output are kept for debugging (and tests). */
  logLines?: number;
}

interface ProbeState {
  spec: ProbeSpec;
  successes: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

class ContainerRunner {
  readonly view: ContainerView;
  private proc: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly probes: { readiness?: ProbeState; liveness?: ProbeState; startup?: ProbeState } = {};
  readonly logs: string[] = [];
  private stopping = false;
  invalidProbe: string | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly pod: PodWorker,
    readonly spec: V1Container,
    readonly program: Program | undefined,
  ) {
    this.view = {
      name: spec.name,
      image: spec.image ?? '',
      restartCount: 0,
      ready: false,
      started: false,
      waiting: { reason: 'ContainerCreating' },
    };
    for (const [field, probe] of [
      ['readinessProbe', spec.readinessProbe],
      ['livenessProbe', spec.livenessProbe],
      ['startupProbe', spec.startupProbe],
    ] as const) {
      if (!probe) continue;
      const parsed = parseProbe(spec, probe, field);
      if (!parsed.ok) {
        this.invalidProbe = `container ${spec.name}: ${parsed.message}`;
        continue;
      }
      const kind =
        field === 'readinessProbe' ? 'readiness' : field === 'livenessProbe' ? 'liveness' : 'startup';
      this.probes[kind] = { spec: parsed.value, successes: 0, failures: 0 };
    }
  }

  async start(): Promise<void> {
    if (this.stopping) return;
    if (!this.program) {
      // A virtual container: no process, running and ready at once (readiness probes are not run).
      this.view.runningSince = new Date();
      this.view.started = true;
      this.view.ready = this.invalidProbe === undefined;
      delete this.view.waiting;
      this.pod.changed();
      return;
    }
    const env = await this.pod.containerEnv(this.spec);
    if (this.stopping) return;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', this.program.entry, ...(this.spec.args ?? [])],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc = child;
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.logs.push(line);
      const max = this.pod.opts.logLines ?? 200;
      if (this.logs.length > max) this.logs.splice(0, this.logs.length - max);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const startedAt = new Date();
    this.view.runningSince = startedAt;
    this.view.containerID = `sandbox://${child.pid ?? 0}`;
    this.view.started = this.probes.startup === undefined;
    this.view.ready = false;
    delete this.view.waiting;
    delete this.view.terminated;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(code, signal, startedAt);
        resolve();
      });
    });
    child.once('error', (err) => {
      this.logs.push(`failed to start: ${err.message}`);
    });
    if (this.probes.startup) this.schedule('startup', this.probes.startup.spec.initialDelayMs);
    else this.startRunningProbes();
    if (!this.probes.readiness && !this.probes.startup) this.view.ready = this.invalidProbe === undefined;
    this.pod.changed();
  }

  private startRunningProbes(): void {
    if (this.probes.readiness) this.schedule('readiness', this.probes.readiness.spec.initialDelayMs);
    if (this.probes.liveness) this.schedule('liveness', this.probes.liveness.spec.initialDelayMs);
  }

  private schedule(kind: 'readiness' | 'liveness' | 'startup', delayMs: number): void {
    const p = this.probes[kind];
    if (!p || this.stopping) return;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => void this.probeOnce(kind), delayMs);
  }

  private async probeOnce(kind: 'readiness' | 'liveness' | 'startup'): Promise<void> {
    const p = this.probes[kind];
    if (!p || this.stopping || !this.proc || this.view.runningSince === undefined) return;
    const result = await runProbe(
      p.spec.action,
      this.pod.podIP ?? '127.0.0.1',
      p.spec.timeoutMs,
      this.probeEnv(),
    );
    if (this.stopping || this.view.runningSince === undefined) return;
    if (result.ok) {
      p.successes++;
      p.failures = 0;
    } else {
      p.failures++;
      p.successes = 0;
      this.logs.push(`${kind} probe failed: ${result.message}`);
    }
    if (kind === 'readiness') {
      const ready =
        p.successes >= p.spec.successThreshold
          ? true
          : p.failures >= p.spec.failureThreshold
            ? false
            : this.view.ready;
      if (ready !== this.view.ready) {
        this.view.ready = ready;
        this.pod.changed();
      }
    } else if (kind === 'startup') {
      if (result.ok) {
        this.view.started = true;
        if (!this.probes.readiness) this.view.ready = true;
        this.pod.changed();
        this.startRunningProbes();
        return;
      }
      if (p.failures >= p.spec.failureThreshold) {
        this.kill('startup probe failed');
        return;
      }
    } else if (p.failures >= p.spec.failureThreshold) {
      this.kill('liveness probe failed');
      return;
    }
    this.schedule(kind, p.spec.periodMs);
  }

  private probeEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  }

  /** Restarts a container whose probe failed, as the kubelet does. */
  private kill(why: string): void {
    this.logs.push(`killing container: ${why}`);
    this.proc?.kill('SIGTERM');
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, startedAt: Date): void {
    this.proc = undefined;
    for (const p of Object.values(this.probes)) clearTimeout(p.timer);
    const finishedAt = new Date();
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    const terminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt,
      ...(signal ? { signal: signal === 'SIGKILL' ? 9 : 15 } : {}),
    };
    delete this.view.runningSince;
    this.view.ready = false;
    if (this.stopping) {
      this.view.terminated = terminated;
      this.pod.changed();
      return;
    }
    this.view.lastTerminated = terminated;
    const policy = this.pod.restartPolicy;
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
      this.view.terminated = terminated;
      this.pod.changed();
      return;
    }
    // Back-off doubles per restart; a container that ran for 10 minutes starts over.
    const ranMs = finishedAt.getTime() - startedAt.getTime();
    if (ranMs > 600_000) this.view.restartCount = 0;
    const delay = Math.min(
      this.pod.opts.backoffMaxMs,
      this.pod.opts.backoffBaseMs * 2 ** this.view.restartCount,
    );
    this.view.restartCount++;
    this.view.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${formatDelay(delay)} restarting failed container=${this.spec.name} pod=${this.pod.name}`,
    };
    this.pod.changed();
    this.restartTimer = setTimeout(() => void this.start(), delay);
  }

  /** Stops the container: SIGTERM, then SIGKILL after graceMs. Resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    for (const p of Object.values(this.probes)) clearTimeout(p.timer);
    if (!this.proc) {
      if (this.view.runningSince) {
        this.view.terminated = {
          exitCode: 0,
          reason: 'Completed',
          startedAt: this.view.runningSince,
          finishedAt: new Date(),
        };
        delete this.view.runningSince;
      }
      this.view.ready = false;
      return;
    }
    const proc = this.proc;
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), Math.max(0, graceMs));
    await this.exited;
    clearTimeout(killer);
  }

  /** Synchronous last resort (process exit): SIGKILL without waiting. */
  killNow(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    for (const p of Object.values(this.probes)) clearTimeout(p.timer);
    this.proc?.kill('SIGKILL');
  }
}

const formatDelay = (ms: number): string =>
  ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${(ms % 60_000) / 1000}s` : `${ms / 1000}s`;

export class PodWorker {
  readonly containers: ContainerRunner[];
  readonly startTime = new Date();
  private started = false;

  constructor(
    public pod: V1Pod,
    readonly podIP: string | undefined,
    readonly hostIP: string,
    readonly opts: WorkerOptions,
  ) {
    this.containers = (pod.spec?.containers ?? []).map(
      (c) => new ContainerRunner(this, c, programFor(opts.programs, c.image ?? '')),
    );
  }

  get name(): string {
    return this.pod.metadata?.name ?? '';
  }

  get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }

  get restartPolicy(): string {
    return this.pod.spec?.restartPolicy ?? 'Always';
  }

  get virtual(): boolean {
    return this.containers.every((c) => c.program === undefined);
  }

  changed(): void {
    this.opts.onChange();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.containers) void c.start();
  }

  /** The environment of a container's process: its env (resolved), pod identity, ports, version. */
  async containerEnv(spec: V1Container): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      FLEDGE_POD_IP: this.podIP ?? '127.0.0.1',
      FLEDGE_POD_NAME: this.name,
      FLEDGE_POD_NAMESPACE: this.namespace,
      VERSION: parseImage(spec.image ?? '').tag || 'latest',
    };
    for (const p of spec.ports ?? [])
      if (p.name)
        env[`FLEDGE_PORT_${p.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(p.containerPort);
    for (const e of spec.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      const from = e.valueFrom;
      if (!from) continue;
      if (from.fieldRef) env[e.name] = this.fieldRef(from.fieldRef.fieldPath);
      else if (from.configMapKeyRef) {
        const v = await this.opts.lookupKey(
          'ConfigMap',
          this.namespace,
          from.configMapKeyRef.name ?? '',
          from.configMapKeyRef.key,
        );
        if (v !== undefined) env[e.name] = v;
      } else if (from.secretKeyRef) {
        const v = await this.opts.lookupKey(
          'Secret',
          this.namespace,
          from.secretKeyRef.name ?? '',
          from.secretKeyRef.key,
        );
        if (v !== undefined) env[e.name] = v;
      }
    }
    return env;
  }

  private fieldRef(path: string): string {
    const meta = this.pod.metadata ?? {};
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    if (label) return meta.labels?.[label[1] ?? ''] ?? '';
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
    if (annotation) return meta.annotations?.[annotation[1] ?? ''] ?? '';
    switch (path) {
      case 'metadata.name':
        return meta.name ?? '';
      case 'metadata.namespace':
        return meta.namespace ?? '';
      case 'metadata.uid':
        return meta.uid ?? '';
      case 'spec.nodeName':
        return this.pod.spec?.nodeName ?? '';
      case 'spec.serviceAccountName':
        return this.pod.spec?.serviceAccountName ?? '';
      case 'status.podIP':
        return this.podIP ?? '';
      case 'status.hostIP':
        return this.hostIP;
      default:
        return '';
    }
  }

  view(): PodView {
    const invalid = this.containers.map((c) => c.invalidProbe).find((m) => m !== undefined);
    const virtual = this.containers.filter((c) => c.program === undefined).map((c) => c.spec.image ?? '');
    const view: PodView = {
      restartPolicy: this.restartPolicy,
      hostIP: this.hostIP,
      startTime: this.startTime,
      containers: this.containers.map((c) => c.view),
      ...(this.podIP ? { podIP: this.podIP } : {}),
      ...(invalid ? { invalidProbe: invalid } : {}),
      ...(this.pod.status ? { previous: this.pod.status } : {}),
    };
    if (virtual.length > 0) {
      view.message = `virtual pod: image${virtual.length > 1 ? 's' : ''} ${virtual.map((i) => JSON.stringify(i)).join(', ')} ${virtual.length > 1 ? 'are' : 'is'} not a sandbox program, so no process runs`;
    }
    return view;
  }

  logs(container: string): string[] {
    return this.containers.find((c) => c.spec.name === container)?.logs ?? [];
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.containers.map((c) => c.stop(graceMs)));
  }

  killNow(): void {
    for (const c of this.containers) c.killNow();
  }
}

/** $(VAR) references in env values, as the kubelet expands them. */
function expand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : m;
  });
}
