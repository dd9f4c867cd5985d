// The load tester's Prometheus metrics, on a registry of its own per load tester instance.
import { Counter, Gauge, Registry } from 'prom-client';

export interface LoadTesterMetrics {
  registry: Registry;
  /** Requests sent by built-in load runs, by target and result code (HTTP status, gRPC code name, or error). */
  requests: Counter<'kind' | 'target' | 'code'>;
  /** Commands run, by type (cmd, bash) and result (success, failure, timeout). */
  commands: Counter<'type' | 'result'>;
  /** Background runs (commands and loads) in progress, by kind. */
  runsActive: Gauge<'kind'>;
  /** Gate checks answered, by gate (gate, rollback) and answer (open, closed). */
  gateChecks: Counter<'gate' | 'answer'>;
}

export function createLoadTesterMetrics(): LoadTesterMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'fledge_loadtester_requests_total',
      help: 'Requests sent by built-in load runs, by kind (http, grpc), target and result code.',
      labelNames: ['kind', 'target', 'code'],
      registers,
    }),
    commands: new Counter({
      name: 'fledge_loadtester_commands_total',
      help: 'Commands run, by type (cmd, bash) and result (success, failure, timeout).',
      labelNames: ['type', 'result'],
      registers,
    }),
    runsActive: new Gauge({
      name: 'fledge_loadtester_runs_active',
      help: 'Background runs in progress, by kind (cmd, http, grpc).',
      labelNames: ['kind'],
      registers,
    }),
    gateChecks: new Counter({
      name: 'fledge_loadtester_gate_checks_total',
      help: 'Gate checks answered, by gate (gate, rollback) and answer (open, closed).',
      labelNames: ['gate', 'answer'],
      registers,
    }),
  };
}
