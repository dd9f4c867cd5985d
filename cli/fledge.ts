// The fledge command line: dispatches subcommands. Each subcommand lives in its own module.
import { runLoadTester } from './loadtester.js';
import { runMesh } from './mesh.js';
import { runSandbox } from './sandbox.js';

const USAGE = `usage: fledge <command> [flags]

commands:
  sandbox     start the local sandbox cluster (API server, kubelet, optionally Prometheus)
  demo        start the sandbox with Prometheus and the demo app running (the rollout lands with the operator)
  loadtester  run the load tester that Canary webhooks call (commands, HTTP/gRPC load, gates)
  mesh        run the xDS control plane alone (Envoy and proxyless gRPC clients) against a cluster
  help        show this text

Run "fledge <command> --help" for the flags of a command.`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'sandbox':
      process.exitCode = await runSandbox(rest, { demo: false });
      return;
    case 'demo':
      process.exitCode = await runSandbox(rest, { demo: true });
      return;
    case 'loadtester':
      process.exitCode = await runLoadTester(rest);
      return;
    case 'mesh':
      process.exitCode = await runMesh(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`fledge: unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

// Run directly (tsx cli/fledge.ts ...), not when imported by bin/fledge.mjs or tests.
const invokedAsScript = process.argv[1] !== undefined && /cli[\\/]fledge\.ts$/.test(process.argv[1]);
if (invokedAsScript) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
