// Connection reuse for API requests. client-node builds a new http(s).Agent without keep-alive for every
// request, so each request opens a new connection (and, against a real cluster, makes a new TLS handshake).
// Here every request with the same TLS settings shares one keep-alive agent.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { createConfiguration, ServerConfiguration } from '@kubernetes/client-node';

/** The TLS settings an agent is made with (client-node's agents carry them in `options`). */
const TLS_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** Agents kept at once; a kubeconfig whose credentials rotate makes new ones, the oldest are closed. */
const MAX_AGENTS = 8;
const agents = new Map<string, http.Agent>();

function fingerprint(protocol: string, options: Record<string, unknown>): string {
  const h = createHash('sha256').update(protocol);
  for (const f of TLS_FIELDS) {
    const v = options[f];
    h.update(`\u0000${f}=`);
    if (v === undefined) continue;
    if (typeof v === 'string' || Buffer.isBuffer(v)) h.update(v);
    else h.update(JSON.stringify(v) ?? '');
  }
  return h.digest('hex');
}

/**
 * A keep-alive agent with the TLS settings of `agent` (one client-node made for a single request), shared by
 * every request with the same settings. Agents of another kind (proxies) are returned as they are.
 */
export function keepAlive(agent: unknown): http.Agent | undefined {
  if (!(agent instanceof http.Agent)) return undefined;
  const https_ = agent instanceof https.Agent;
  if (agent.constructor !== http.Agent && agent.constructor !== https.Agent) return agent;
  const options = (agent as unknown as { options?: Record<string, unknown> }).options ?? {};
  const key = fingerprint(https_ ? 'https' : 'http', options);
  let shared = agents.get(key);
  if (shared === undefined) {
    const tls: Record<string, unknown> = {};
    for (const f of TLS_FIELDS) if (options[f] !== undefined) tls[f] = options[f];
    shared = https_
      ? new https.Agent({ ...(tls as https.AgentOptions), keepAlive: true, scheduling: 'lifo' })
      : new http.Agent({ keepAlive: true, scheduling: 'lifo' });
    agents.set(key, shared);
    if (agents.size > MAX_AGENTS) {
      const [oldestKey, oldest] = agents.entries().next().value as [string, http.Agent];
      agents.delete(oldestKey);
      oldest.destroy();
    }
  }
  return shared;
}

/** Like `kc.makeApiClient(type)`, with connections reused across requests (see keepAlive). */
export function makeApiClient<T>(
  kc: KubeConfig,
  type: new (config: ReturnType<typeof createConfiguration>) => T,
): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: {
      default: {
        getName: () => 'kubeconfig',
        applySecurityAuthentication: async (context) => {
          await kc.applySecurityAuthentication(context);
          const shared = keepAlive(context.getAgent());
          if (shared) context.setAgent(shared);
        },
      },
    },
  });
  return new type(config);
}

/** Closes every kept connection (tests and shutdown). */
export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}
