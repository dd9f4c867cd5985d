// `fledge sandbox`: start the local cluster (API server, kubelet, optionally a real Prometheus), say what can be
// done with it, stay up until Ctrl-C. (`fledge demo` is cli/demo.ts.)
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomToken } from '../sandbox/apiserver/server.js';
import { startSandboxCluster } from '../sandbox/cluster.js';
import { ensurePrometheusInstalled } from '../sandbox/prometheus.js';
import { untilSignal } from './common.js';

const HELP = `usage: fledge sandbox [--port N] [--kubeconfig FILE] [--nodes N] [--prometheus] [--token]

  --port N           API server on 127.0.0.1:N (default: a free port)
  --kubeconfig FILE  where to write the kubeconfig (default: .sandbox/kubeconfig)
  --nodes N          sandbox nodes the kubelet registers (default 1)
  --prometheus       also run a real Prometheus scraping every pod's "http" port
  --token            require a random bearer token (written into the kubeconfig);
                     kubectl does not send tokens over plain HTTP, so leave it off for kubectl`;

const EXAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'sandbox',
  'examples',
  'web.yaml',
);

interface Flags {
  port?: string;
  kubeconfig?: string;
  nodes?: string;
  prometheus?: boolean;
  token?: boolean;
  help?: boolean;
}

export async function runSandbox(argv: string[]): Promise<number> {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        kubeconfig: { type: 'string' },
        nodes: { type: 'string' },
        prometheus: { type: 'boolean' },
        token: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fledge sandbox: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`fledge sandbox: --port must be a port number, got "${values.port}"`);
    return 2;
  }
  const nodes = values.nodes === undefined ? 1 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 250) {
    console.error(`fledge sandbox: --nodes must be a whole number from 1 to 250, got "${values.nodes}"`);
    return 2;
  }
  const withPrometheus = values.prometheus === true;
  if (withPrometheus) await ensurePrometheusInstalled();
  const kubeconfigPath = path.resolve(values.kubeconfig ?? path.join('.sandbox', 'kubeconfig'));
  const cluster = await startSandboxCluster({
    port,
    nodes,
    kubeconfigPath,
    prometheus: withPrometheus,
    ...(values.token ? { token: randomToken() } : {}),
  });

  console.log(`fledge sandbox cluster is up: ${cluster.server.url} (${nodes} node${nodes > 1 ? 's' : ''})`);
  console.log(`kubeconfig: ${kubeconfigPath}`);
  if (cluster.prometheus) console.log(`prometheus: ${cluster.prometheus.url}`);
  console.log('');
  console.log('Try it (any Kubernetes client works; kubectl shown):');
  console.log(`  export KUBECONFIG=${kubeconfigPath}`);
  console.log(`  kubectl apply -f ${path.relative(process.cwd(), EXAMPLE) || EXAMPLE}`);
  console.log('  kubectl get deployments,pods,services,endpointslices -o wide');
  console.log('  kubectl scale deployment web --replicas=3');
  console.log('');
  console.log('Press Ctrl-C to stop.');

  await untilSignal();
  await cluster.stop();
  console.log('fledge sandbox stopped.');
  return 0;
}
