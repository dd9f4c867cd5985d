// Raw JSON requests to the API server with the kubeconfig's credentials: objects exactly as the server sends
// them (client-node's typed models rename or drop fields such as `x-kubernetes-int-or-string`).
import http from 'node:http';
import https from 'node:https';
import { keepAlive } from './agent.js';
import type { KubeConfig } from '@kubernetes/client-node';

/** A request that got no answer within its deadline. */
export class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
}

export interface RawResponse {
  status: number;
  body: unknown;
}

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** Default application/json; merge patches use application/merge-patch+json. */
  contentType?: string;
  timeoutMs: number;
}

/** Sends one request; resolves with any HTTP status (the caller decides), rejects on network errors/timeouts. */
export async function kubeRequest(kc: KubeConfig, r: RawRequest): Promise<RawResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(r.path, cluster.server);
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  const opts: https.RequestOptions = {
    method: r.method,
    headers: {
      Accept: 'application/json',
      ...(payload
        ? { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': payload.length }
        : {}),
    },
  };
  await kc.applyToHTTPSOptions(opts);
  const shared = keepAlive(opts.agent);
  if (shared) opts.agent = shared;
  const mod = url.protocol === 'https:' ? https : http;
  const send = (retry: boolean): Promise<RawResponse> =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = mod.request(url, { ...opts, timeout: r.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.on('timeout', () =>
        req.destroy(new RequestTimeout(`${r.method} ${r.path}: timed out after ${r.timeoutMs} ms`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as the request went out: nothing reached the server,
        // so sending again on a new connection is safe (what Node's documentation advises).
        if (retry && req.reusedSocket && err.code === 'ECONNRESET') resolve(send(false));
        else reject(err);
      });
      if (payload) req.write(payload);
      req.end();
    });
  return send(true);
}

/** GET `path` as JSON; rejects (with `statusCode`) on a status ≥ 300. */
export async function getJson<T>(kc: KubeConfig, path: string, timeoutMs: number): Promise<T> {
  const res = await kubeRequest(kc, { method: 'GET', path, timeoutMs });
  if (res.status >= 300) {
    const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    const err = new Error(`GET ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    throw Object.assign(err, { statusCode: res.status });
  }
  return res.body as T;
}
