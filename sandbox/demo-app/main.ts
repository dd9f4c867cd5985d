// The demo app as a process, as the sandbox kubelet runs it per pod: `node --import tsx sandbox/demo-app/main.ts`.
// Exit codes: 0 after SIGTERM/SIGINT, 1 for FAIL_START, EXIT_AFTER_MS or a failed bind, 2 for invalid settings.
import { startDemoApp } from './app.js';
import { parseConfig } from './config.js';

/** One JSON log line on stdout; the kubelet and tests wait for `"msg":"listening"`. */
function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...fields, time: new Date().toISOString() })}\n`);
}

async function main(): Promise<number | undefined> {
  const parsed = parseConfig(process.env, process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`demo-app: invalid settings:\n${parsed.message}\n`);
    return 2;
  }
  const config = parsed.value;
  if (config.failStart) {
    process.stderr.write('demo-app: FAIL_START is set, exiting with code 1\n');
    return 1;
  }

  const started = await startDemoApp(config).then(
    (app) => ({ ok: true as const, app }),
    (err: unknown) => ({ ok: false as const, message: err instanceof Error ? err.message : String(err) }),
  );
  if (!started.ok) {
    process.stderr.write(`demo-app: cannot start: ${started.message}\n`);
    return 1;
  }
  const app = started.app;
  log({
    msg: 'listening',
    host: app.host,
    http: app.httpPort,
    grpc: app.grpcPort,
    version: config.version,
    pod: config.podName,
    namespace: config.namespace,
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // Drain: report not ready but keep answering, then close (in-flight calls finish within the grace).
    app.setReady(false);
    const drained = new Promise<void>((resolve) => setTimeout(resolve, config.drainMs));
    drained
      .then(() => app.close())
      .then(
        () => {
          log({ msg: 'stopped', signal, version: config.version, pod: config.podName });
          process.exit(0);
        },
        (err: unknown) => {
          process.stderr.write(`demo-app: error while stopping: ${String(err)}\n`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  // A container dies with its pod: when the process that started this one (the sandbox kubelet)
  // is gone, no one will ever stop it, so it stops itself.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('SIGTERM');
  }, 1000).unref();

  if (config.exitAfterMs !== undefined) {
    const exitAfterMs = config.exitAfterMs;
    setTimeout(() => {
      log({
        msg: 'exiting',
        reason: 'EXIT_AFTER_MS',
        exitAfterMs,
        version: config.version,
        pod: config.podName,
      });
      process.exit(1);
    }, exitAfterMs);
  }
  return undefined;
}

const code = await main();
if (code !== undefined) process.exit(code);
