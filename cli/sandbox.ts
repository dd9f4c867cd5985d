// `fledge sandbox` and (until the operator lands) `fledge demo`: start the sandbox cluster,
// write a kubeconfig, say what can be done with it, and stay up until interrupted.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomToken, startSandboxServer } from '../sandbox/apiserver/server.js';

const HELP = `usage: fledge sandbox [--port N] [--kubeconfig FILE] [--token]

  --port N           listen on 127.0.0.1:N (default: a free port)
  --kubeconfig FILE  where to write the kubeconfig (default: .sandbox/kubeconfig)
  --token            require a random bearer token (written into the kubeconfig);
                     kubectl does not send tokens over plain HTTP, so leave it off for kubectl`;

const EXAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'sandbox',
  'examples',
  'web.yaml',
);

export async function runSandbox(argv: string[], opts: { demo: boolean }): Promise<number> {
  let values: { port?: string; kubeconfig?: string; token?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        kubeconfig: { type: 'string' },
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
  const token = values.token ? randomToken() : undefined;
  const server = await startSandboxServer({ port, token });
  const kubeconfig = path.resolve(values.kubeconfig ?? path.join('.sandbox', 'kubeconfig'));
  server.writeKubeconfig(kubeconfig);

  console.log(`fledge sandbox cluster is up: ${server.url}`);
  console.log(`kubeconfig: ${kubeconfig}`);
  console.log('');
  console.log('Try it (any Kubernetes client works; kubectl shown):');
  console.log(`  export KUBECONFIG=${kubeconfig}`);
  console.log('  kubectl api-resources');
  console.log(`  kubectl apply -f ${path.relative(process.cwd(), EXAMPLE) || EXAMPLE}`);
  console.log('  kubectl get deployments,replicasets,pods,services,endpointslices -o wide');
  console.log('  kubectl scale deployment web --replicas=3');
  if (opts.demo) {
    console.log('');
    console.log('This is the sandbox part of the demo. Pods are created by the built-in controllers but are');
    console.log(
      'not run as processes yet, and the operator is not part of this build: see README.md, Feature status.',
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
  await server.close();
  console.log('fledge sandbox stopped.');
  return 0;
}
