// Child process of the apiserver benchmark: runs the sandbox API server alone, so that the load
// generator and the 100 watch clients do not share its CPU. Prints {"url","token"} on stdout.
import { randomToken, startSandboxServer } from '../sandbox/apiserver/server.js';

const token = randomToken();
const server = await startSandboxServer({ token });
process.stdout.write(`${JSON.stringify({ url: server.url, token })}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
