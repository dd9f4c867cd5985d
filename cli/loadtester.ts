// `fledge loadtester`: runs the load tester service (SPEC §5.3) until Ctrl-C or SIGTERM.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startLoadTester } from '../analysis/loadtester/index.js';
import { untilSignal } from './common.js';
import { parseGoDuration } from '../analysis/duration.js';

const HELP = `usage: fledge loadtester [--port N] [--host ADDR] [--timeout DURATION]

  --port N            listen on port N (default 8080, as Flagger's load tester)
  --host ADDR         address to bind (default 127.0.0.1; use 0.0.0.0 in a pod). Whoever reaches the
                      port can run commands on this machine.
  --timeout DURATION  limit of every command, e.g. 10m (default 1h)

Endpoints: POST / (metadata.type cmd | bash | http | grpc), /gate/{check,open,close,approve,halt},
/rollback/{check,open,close}, GET /runs, /healthz, /metrics.`;

interface Flags {
  port?: string;
  host?: string;
  timeout?: string;
  help?: boolean;
}

export async function runLoadTester(argv: string[]): Promise<number> {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fledge loadtester: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`fledge loadtester: --port must be a port number, got "${values.port}"`);
    return 2;
  }
  let commandTimeoutMs = 3_600_000;
  if (values.timeout !== undefined) {
    const t = parseGoDuration(values.timeout);
    if (!t.ok || t.value < 1) {
      console.error(`fledge loadtester: --timeout: ${t.ok ? 'must be above 0' : t.message}`);
      return 2;
    }
    commandTimeoutMs = t.value;
  }
  const logger = pino({ name: 'fledge-loadtester' });
  const lt = await startLoadTester({ port, host: values.host ?? '127.0.0.1', commandTimeoutMs, logger });
  logger.info({ url: lt.url }, 'load tester listening');
  console.log(`fledge loadtester is up: ${lt.url}`);
  console.log('Press Ctrl-C to stop.');
  await untilSignal();
  await lt.close();
  console.log('fledge loadtester stopped.');
  return 0;
}
