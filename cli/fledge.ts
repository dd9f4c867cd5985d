// The fledge command line: dispatches subcommands. Each subcommand lives in its own module, loaded only when
// it runs: `fledge operator` in production does not load the sandbox, the demo or the load tester.

const USAGE = `usage: fledge <command> [flags]

commands:
  sandbox     start the local sandbox cluster (API server, kubelet, optionally Prometheus)
  demo        run fledge end to end on the sandbox: a good release promoted, a bad one rolled back
  loadtester  run the load tester that Canary webhooks call (commands, HTTP/gRPC load, gates)
  operator    run the operator with the embedded xDS control plane against a cluster
  mesh        run the xDS control plane alone (Envoy and proxyless gRPC clients) against a cluster
  status      show canaries (a table, or one with NAME); --watch exits 0 on Succeeded, 1 on Failed
  promote     promote canary NAME now, skipping the remaining steps (sets fledge.dev/promote)
  abort       roll canary NAME back now (fledge.dev/abort)
  resume      let canary NAME leave Waiting / WaitingPromotion (fledge.dev/resume)
  retry       run a Failed canary NAME again (fledge.dev/retry)
  help        show this text

Run "fledge <command> --help" for the flags of a command. As a kubectl plugin (bin/kubectl-fledge on the
PATH) the same commands run as "kubectl fledge status", "kubectl fledge promote NAME -n NS", ….`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'sandbox':
      process.exitCode = await (await import('./sandbox.js')).runSandbox(rest);
      return;
    case 'demo':
      process.exitCode = await (await import('./demo.js')).runDemo(rest);
      return;
    case 'loadtester':
      process.exitCode = await (await import('./loadtester.js')).runLoadTester(rest);
      return;
    case 'operator':
      process.exitCode = await (await import('./operator.js')).runOperator(rest);
      return;
    case 'mesh':
      process.exitCode = await (await import('./mesh.js')).runMesh(rest);
      return;
    case 'status':
    case 'promote':
    case 'abort':
    case 'resume':
    case 'retry':
      process.exitCode = await (await import('./control.js')).runControl(cmd, rest);
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

// Run directly (tsx cli/fledge.ts …, or node dist/cli/fledge.js … as built), not when imported by
// bin/fledge.mjs or tests.
const invokedAsScript = process.argv[1] !== undefined && /cli[\\/]fledge\.[jt]s$/.test(process.argv[1]);
if (invokedAsScript) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
