// The operator under bench/operator.ts, in its own process so its RSS and CPU are its own: startOperator with
// the config in argv[2]; announces its HTTP port over IPC and stops (exit 0) when the parent says `stop`.
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { startOperator } from '../operator/main.js';

export interface OperatorChildConfig {
  kubeconfigPath: string;
  metricsServer: string;
  concurrency?: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as OperatorChildConfig;
  const kc = new KubeConfig();
  kc.loadFromFile(cfg.kubeconfigPath);
  const operator = await startOperator({
    kc,
    log: pino({ level: 'warn' }, pino.destination(2)),
    metricsServer: cfg.metricsServer,
    ...(cfg.concurrency ? { concurrency: cfg.concurrency } : {}),
  });
  process.send?.({ ready: { httpPort: operator.http.port } });
  process.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    void operator.stop().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
