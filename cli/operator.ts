// `fledge operator`: runs the operator and, unless --no-mesh, the embedded xDS control plane in one process
// (SPEC §3, §4), with /healthz, /readyz and /metrics on the HTTP port, until Ctrl-C or SIGTERM.
import { parseArgs } from 'node:util';
import { intFlag, loadKubeconfig, PORT_RANGE } from './common.js';
import { pino } from 'pino';
import type { Operator } from '../operator/main.js';
import { startOperator } from '../operator/main.js';
import { DEFAULT_CONCURRENCY } from '../operator/controller.js';

const HELP = `usage: fledge operator [--kubeconfig FILE] [--metrics-server URL] [--xds-port N] [--http-port N]
                       [--host ADDR] [--no-mesh] [--concurrency N]

  --kubeconfig FILE     cluster to run canaries on (default: $KUBECONFIG, else ~/.kube/config, else the
                        in-cluster service account)
  --metrics-server URL  Prometheus for the built-in checks of canaries without spec.metricsServer
                        (default http://prometheus:9090)
  --xds-port N          ADS (gRPC) port of the embedded mesh (default 15010; 0 = a free port)
  --http-port N         HTTP port of /healthz, /readyz, /metrics and the mesh's /debug (default 8080; 0 = a
                        free port)
  --host ADDR           address both servers bind (default 0.0.0.0)
  --no-mesh             do not run the embedded xDS control plane (for providers istio and kubernetes, or when
                        \`fledge mesh\` runs apart)
  --concurrency N       canaries reconciled at once (default 32)

Logs are JSON lines on stdout; the line "fledge operator listening" carries the bound httpPort and xdsPort.
/readyz answers 200 once the Canaries, Deployments, MetricTemplates and AlertProviders were listed (and the
mesh published its first snapshot), 503 before.`;

interface Flags {
  kubeconfig?: string;
  'metrics-server'?: string;
  'xds-port'?: string;
  'http-port'?: string;
  host?: string;
  'no-mesh'?: boolean;
  concurrency?: string;
  help?: boolean;
}

interface Settings {
  metricsServer: string;
  xdsPort: number;
  httpPort: number;
  host: string;
  mesh: boolean;
  concurrency: number;
}

/** Every flag checked; all problems are reported at once. */
function settingsOf(values: Flags): { ok: true; value: Settings } | { ok: false; problems: string[] } {
  const xds = intFlag('xds-port', values['xds-port'], 15010, PORT_RANGE);
  const http = intFlag('http-port', values['http-port'], 8080, PORT_RANGE);
  const concurrency = intFlag('concurrency', values.concurrency, DEFAULT_CONCURRENCY, {
    min: 1,
    max: 1000,
    what: 'a whole number from 1 to 1000',
  });
  const metricsServer = values['metrics-server'] ?? 'http://prometheus:9090';
  const problems = [xds, http, concurrency].flatMap((r) => (r.ok ? [] : [r.message]));
  if (!URL.canParse(metricsServer) || !/^https?:$/.test(new URL(metricsServer).protocol))
    problems.push(`--metrics-server must be an http(s) URL, got "${metricsServer}"`);
  if (!xds.ok || !http.ok || !concurrency.ok || problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      metricsServer,
      xdsPort: xds.value,
      httpPort: http.value,
      host: values.host ?? '0.0.0.0',
      mesh: values['no-mesh'] !== true,
      concurrency: concurrency.value,
    },
  };
}

export async function runOperator(argv: string[]): Promise<number> {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'metrics-server': { type: 'string' },
        'xds-port': { type: 'string' },
        'http-port': { type: 'string' },
        host: { type: 'string' },
        'no-mesh': { type: 'boolean' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fledge operator: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const settings = settingsOf(values);
  if (!settings.ok) {
    for (const p of settings.problems) console.error(`fledge operator: ${p}`);
    return 2;
  }
  const s = settings.value;

  const loaded = loadKubeconfig(values.kubeconfig);
  if (!loaded.ok) {
    console.error(`fledge operator: ${loaded.message}`);
    return 1;
  }
  const kc = loaded.kc;

  const log = pino({ name: 'fledge-operator' });
  // A signal during start-up (the first sync waits for the CRDs) stops it too: startOperator then rejects.
  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping.signal.aborted) log.info({ signal }, 'fledge operator stopping');
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let operator: Operator;
    try {
      operator = await startOperator({
        kc,
        log,
        metricsServer: s.metricsServer,
        mesh: s.mesh,
        xdsHost: s.host,
        xdsPort: s.xdsPort,
        httpHost: s.host,
        httpPort: s.httpPort,
        concurrency: s.concurrency,
        signal: stopping.signal,
      });
    } catch (e) {
      if (stopping.signal.aborted) {
        log.info({}, 'fledge operator stopped');
        return 0;
      }
      log.error({ err: e }, 'fledge operator: did not start');
      return 1;
    }
    await new Promise<void>((resolve) => {
      if (stopping.signal.aborted) resolve();
      else stopping.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await operator.stop();
    log.info({}, 'fledge operator stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
