// `fledge mesh`: runs the embedded xDS control plane on its own (SPEC §4), with /healthz, /readyz, /metrics and
// the /debug endpoints on a separate HTTP port, until Ctrl-C or SIGTERM.
import { parseArgs } from 'node:util';
import { intFlag, loadKubeconfig, PORT_RANGE, untilSignal } from './common.js';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { HttpHandler } from '../mesh/debug.js';
import { sendText, startHttpServer } from '../mesh/debug.js';
import type { Mesh } from '../mesh/mesh.js';
import { startMesh } from '../mesh/mesh.js';

const HELP = `usage: fledge mesh [--kubeconfig FILE] [--xds-port N] [--debug-port N] [--host ADDR]

  --kubeconfig FILE  cluster to read Services, EndpointSlices, Pods, VirtualServices and DestinationRules
                     from (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)
  --xds-port N       ADS (gRPC) port for Envoy and proxyless gRPC clients (default 15010; 0 = a free port)
  --debug-port N     HTTP port of /healthz, /readyz, /metrics, /debug/syncz, /debug/config_dump
                     (default 15014; 0 = a free port)
  --host ADDR        address both servers bind (default 0.0.0.0)

Logs are JSON lines on stdout; the line "fledge mesh listening" carries the bound xdsPort and debugPort.
/readyz answers 200 once every input was listed and the first snapshot published, 503 before.`;

interface Flags {
  kubeconfig?: string;
  'xds-port'?: string;
  'debug-port'?: string;
  host?: string;
  help?: boolean;
}

export async function runMesh(argv: string[]): Promise<number> {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'xds-port': { type: 'string' },
        'debug-port': { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fledge mesh: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const xds = intFlag('xds-port', values['xds-port'], 15010, PORT_RANGE);
  const debug = intFlag('debug-port', values['debug-port'], 15014, PORT_RANGE);
  if (!xds.ok || !debug.ok) {
    for (const p of [xds, debug]) if (!p.ok) console.error(`fledge mesh: ${p.message}`);
    return 2;
  }
  const xdsPort = xds.value;
  const debugPort = debug.value;
  const host = values.host ?? '0.0.0.0';

  const loaded = loadKubeconfig(values.kubeconfig);
  if (!loaded.ok) {
    console.error(`fledge mesh: ${loaded.message}`);
    return 1;
  }
  const kc = loaded.kc;

  const log = pino({ name: 'fledge-mesh' });
  const signal = untilSignal();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The HTTP server is up before the mesh so /healthz answers while the first sync is under way.
  let mesh: Mesh | undefined;
  const health: HttpHandler = async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    switch (url.pathname) {
      case '/healthz':
        sendText(res, 200, 'ok\n');
        return true;
      case '/readyz':
        if (mesh?.ready()) sendText(res, 200, 'ok\n');
        else sendText(res, 503, 'not ready: the first full sync of the inputs is not published yet\n');
        return true;
      case '/metrics':
        sendText(res, 200, await registry.metrics(), registry.contentType);
        return true;
      default:
        return mesh ? mesh.debugHandler(req, res, url) : false;
    }
  };
  const http = await startHttpServer([health], host, debugPort);
  try {
    mesh = await startMesh({ kc, log, registry, xdsHost: host, xdsPort });
  } catch (e) {
    log.error({ err: e }, 'fledge mesh: the control plane did not start');
    await http.close();
    return 1;
  }
  log.info({ xdsPort: mesh.xdsPort, debugPort: http.port, host }, 'fledge mesh listening');
  const ready = mesh.whenReady().then(
    () => log.info({}, 'fledge mesh ready'),
    () => undefined,
  );

  const received = await signal;
  log.info({ signal: received }, 'fledge mesh stopping');
  await mesh.stop();
  await ready;
  await http.close();
  log.info({}, 'fledge mesh stopped');
  return 0;
}
