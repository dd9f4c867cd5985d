// `fledge sandbox` and `fledge demo`: start the local cluster (API server, kubelet, and for the demo
// a real Prometheus and a running demo app), say what can be done with it, stay up until Ctrl-C.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { randomToken } from '../sandbox/apiserver/server.js';
import type { SandboxCluster } from '../sandbox/cluster.js';
import { startSandboxCluster } from '../sandbox/cluster.js';
import { ensurePrometheusInstalled } from '../sandbox/prometheus.js';

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

export async function runSandbox(argv: string[], opts: { demo: boolean }): Promise<number> {
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
  const withPrometheus = opts.demo || values.prometheus === true;
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
  if (opts.demo) await runDemoApp(cluster);
  console.log('');
  console.log('Try it (any Kubernetes client works; kubectl shown):');
  console.log(`  export KUBECONFIG=${kubeconfigPath}`);
  console.log(`  kubectl apply -f ${path.relative(process.cwd(), EXAMPLE) || EXAMPLE}`);
  console.log('  kubectl get deployments,pods,services,endpointslices -o wide');
  console.log('  kubectl scale deployment web --replicas=3');
  if (opts.demo) {
    console.log('');
    console.log(
      'The operator is not part of this build yet, so nothing is rolled out: see README.md, Feature status.',
    );
  }
  console.log('');
  console.log('Press Ctrl-C to stop.');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await cluster.stop();
  console.log('fledge sandbox stopped.');
  return 0;
}

/** Deploys the demo app (2 replicas and a Service) and shows it serving and being measured. */
async function runDemoApp(cluster: SandboxCluster): Promise<void> {
  const kc: KubeConfig = cluster.kc;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'podinfo', labels: { app: 'podinfo' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'podinfo' } },
        template: {
          metadata: { labels: { app: 'podinfo' } },
          spec: {
            containers: [
              {
                name: 'podinfo',
                image: 'fledge/demo-app:1.0.0',
                ports: [
                  { name: 'http', containerPort: 8080 },
                  { name: 'grpc', containerPort: 9090 },
                ],
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name: 'podinfo' },
      spec: {
        selector: { app: 'podinfo' },
        ports: [
          { name: 'http', port: 9898, targetPort: 'http' },
          { name: 'grpc', port: 9999, targetPort: 'grpc' },
        ],
      },
    },
  });
  console.log('');
  console.log('Deploying the demo app (Deployment podinfo, 2 replicas of fledge/demo-app:1.0.0) ...');
  const deadline = Date.now() + 60_000;
  let shown = -1;
  for (;;) {
    const d = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: 'default' });
    const ready = d.status?.readyReplicas ?? 0;
    if (ready !== shown) {
      process.stdout.write(
        `${shown >= 0 && process.stdout.isTTY ? '\r' : shown >= 0 ? '\n' : ''}  ready replicas: ${ready}/2`,
      );
      shown = ready;
    }
    if (ready === 2) break;
    if (Date.now() > deadline) {
      console.log('\n  the demo app did not become ready within 60 s; see `kubectl describe pods`');
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const pods = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=podinfo' })).items;
  console.log('');
  for (const p of pods) {
    const ip = p.status?.podIP ?? '';
    const res = await fetch(`http://${ip}:8080/`);
    const body = (await res.json()) as { version?: string };
    console.log(
      `  ${p.metadata?.name ?? ''} on ${p.spec?.nodeName ?? ''} at ${ip}: HTTP ${res.status}, version ${body.version ?? '?'}`,
    );
  }
  if (cluster.prometheus) {
    console.log('');
    console.log('Prometheus scrapes every pod; try:');
    console.log(
      `  curl -s '${cluster.prometheus.url}/api/v1/query' --data-urlencode 'query=sum by (pod) (http_requests_total)'`,
    );
  }
}
