// The mesh's debug and health HTTP endpoints: /debug/syncz, /debug/config_dump?proxy=ID, and a tiny HTTP
// server that the operator reuses for /healthz, /readyz and /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type protobuf from 'protobufjs';
import { typeOfUrl } from './protos.js';
import type { AdsServer } from './xds/ads.js';

/** Handles a request and returns true, or returns false to let the next handler try. */
export type HttpHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
) => boolean | Promise<boolean>;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

export function sendText(
  res: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain',
): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

export interface HttpServerHandle {
  port: number;
  close(): Promise<void>;
}

/** Starts an HTTP server on host:port (0 = free port) answering with the first handler that takes a request. */
export async function startHttpServer(
  handlers: readonly HttpHandler[],
  host = '127.0.0.1',
  port = 0,
): Promise<HttpServerHandle> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      try {
        for (const h of handlers) if (await h(req, res, url)) return;
        sendText(res, 404, 'not found\n');
      } catch (err) {
        if (!res.headersSent) sendText(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
        else res.end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Decodes one google.protobuf.Any (as sent) to JSON with `@type`, nested Anys included. */
export function anyToJson(root: protobuf.Root, any: Uint8Array): unknown {
  const anyType = root.lookupType('google.protobuf.Any');
  const msg = anyType.decode(any) as unknown as { type_url: string; value: Uint8Array };
  const type = typeOfUrl(root, msg.type_url);
  const decoded = type.decode(msg.value);
  return { '@type': msg.type_url, ...type.toObject(decoded, { json: true, enums: String, longs: String }) };
}

/** /debug/syncz and /debug/config_dump over an ADS server. */
export function meshDebugHandler(ads: AdsServer, root: () => protobuf.Root): HttpHandler {
  return (req, res, url) => {
    if (req.method !== 'GET') return false;
    if (url.pathname === '/debug/syncz') {
      sendJson(res, 200, ads.syncz());
      return true;
    }
    if (url.pathname === '/debug/config_dump') {
      const proxy = url.searchParams.get('proxy');
      if (!proxy) {
        sendJson(res, 400, { error: 'query parameter "proxy" (a node id from /debug/syncz) is required' });
        return true;
      }
      const streams = ads.sentTo(proxy);
      if (streams.length === 0) {
        sendJson(res, 404, { error: `no connected proxy with node id "${proxy}"` });
        return true;
      }
      const r = root();
      sendJson(
        res,
        200,
        streams.map((s) => ({
          stream: s.stream,
          kind: s.kind,
          types: s.types.map((t) => ({
            typeUrl: t.typeUrl,
            version: t.version,
            ackedVersion: t.ackedVersion ?? null,
            resources: t.resources.map((x) => ({
              name: x.name,
              version: x.version,
              resource: anyToJson(r, x.any),
            })),
          })),
        })),
      );
      return true;
    }
    return false;
  };
}
