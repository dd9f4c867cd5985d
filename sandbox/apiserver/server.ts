// HTTP front of the sandbox API server: routing, authentication, content negotiation, body
// decoding and the watch stream framing of the Kubernetes REST protocol, over the Api layer.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import type { DeleteOptions, PatchType } from './api.js';
import { Api, unsupportedPatch } from './api.js';
import { startControllers } from './controllers.js';
import { apiVersionsDoc, groupDocFor, groupListDoc, resourceListDoc, versionDoc } from './discovery.js';
import type { DetailedFailure, DResult } from './meta.js';
import { badRequest, failWith, notFound, statusBody } from './meta.js';
import { openapiDoc, openapiIndex } from './openapi.js';
import { protobufStatus } from './protobuf.js';
import {
  renderPartialList,
  renderPartialObject,
  renderTable,
  renderTableEvent,
  tableOptionsError,
} from './printing.js';
import { Registry } from './registry.js';
import { Store } from './store.js';
import type { Json, JsonObject, ResourceType } from './types.js';
import { isObject, str } from './types.js';
import type { WatchEventType } from './watch.js';
import { startWatch } from './watch.js';

export interface SandboxServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Require this bearer token; without it the server accepts every request. */
  token?: string;
  /** Largest accepted request body in bytes (kube-apiserver accepts 3 MiB). */
  maxBodyBytes?: number;
  /** Run the built-in controllers (namespaces, garbage collector, CRDs, workloads). Default true. */
  controllers?: boolean;
  /** Service cluster IP range, as kube-apiserver's --service-cluster-ip-range (default 10.0.0.0/16). */
  serviceCidr?: string;
}

export interface SandboxServer {
  url: string;
  port: number;
  token?: string;
  api: Api;
  /** Ends every open watch stream the way a server timeout does (clients resume from their rv). */
  dropWatches(): number;
  /** Forgets the watch history (etcd compaction): resuming from an older rv gets 410 Expired. */
  compact(): void;
  /** Writes a kubeconfig for this server and returns its path. */
  writeKubeconfig(file: string, namespace?: string): string;
  close(): Promise<void>;
}

type Media =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'partial'; version: 'v1' | 'v1beta1' }
  | { kind: 'protobuf' }
  | { kind: 'none'; asRequested: boolean };

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const AVAILABLE = 'application/json, application/yaml, application/vnd.kubernetes.protobuf';

/** Picks the response representation from an Accept header, as kube's negotiation does. */
export function negotiate(accept: string | undefined): Media {
  if (!accept || accept.trim() === '') return { kind: 'json' };
  let sawAs = false;
  let sawProtobuf = false;
  for (const raw of accept.split(',')) {
    const [typePart, ...params] = raw.split(';').map((s) => s.trim());
    const mt = (typePart ?? '').toLowerCase();
    const p = new Map<string, string>();
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p.set(kv.slice(0, i).trim().toLowerCase(), kv.slice(i + 1).trim());
    }
    const as = p.get('as');
    if (as) {
      sawAs = true;
      if (mt !== 'application/json' && mt !== 'application/yaml' && mt !== '*/*') continue;
      if (p.get('g') !== 'meta.k8s.io') continue;
      const v = p.get('v');
      if (v !== 'v1' && v !== 'v1beta1') continue;
      if (as === 'Table') return { kind: 'table', version: v };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList')
        return { kind: 'partial', version: v };
      continue;
    }
    if (
      mt === 'application/json' ||
      mt === 'application/*' ||
      mt === '*/*' ||
      mt === 'application/json-patch+json'
    )
      return { kind: 'json' };
    if (mt === 'application/yaml') return { kind: 'yaml' };
    // Protobuf is not spoken here: a client that also accepts JSON gets JSON.
    if (mt === 'application/vnd.kubernetes.protobuf') sawProtobuf = true;
  }
  if (sawProtobuf) return { kind: 'protobuf' };
  return { kind: 'none', asRequested: sawAs };
}

function readBody(
  req: http.IncomingMessage,
  limit: number,
): Promise<{ ok: true; text: string } | { ok: false }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        over = true;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      resolve(over ? { ok: false } : { ok: true, text: Buffer.concat(chunks).toString('utf8') }),
    );
    req.on('error', () => resolve({ ok: false }));
  });
}

/** Go's encoding/json wording for the most common syntax errors ('' when the text parses). */
function goJsonError(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    if (pos >= text.trimEnd().length || /end of (JSON )?input|Unterminated string/i.test(msg))
      return 'unexpected end of JSON input';
    const ch = text[pos] ?? '';
    return `invalid character '${ch}' looking for beginning of value`;
  }
}

const encodedEvents = new WeakMap<JsonObject, Map<string, string>>();

/** One watch line per (object version, event type), encoded once and shared by every watcher. */
function encodedEvent(type: WatchEventType, object: JsonObject): string {
  let byType = encodedEvents.get(object);
  if (!byType) encodedEvents.set(object, (byType = new Map<string, string>()));
  let line = byType.get(type);
  if (line === undefined) byType.set(type, (line = `${JSON.stringify({ type, object })}\n`));
  return line;
}

const snippet = (text: string): string =>
  text.length === 0 ? '<empty>' : text.length > 30 ? `${text.slice(0, 30)} ...` : text;

export class SandboxHttp {
  readonly store = new Store();
  readonly registry = new Registry();
  readonly api: Api;
  private readonly maxBody: number;
  private serverAddress = '127.0.0.1';
  private stopControllers: (() => void) | undefined;
  private readonly openStreams = new Set<http.ServerResponse>();

  constructor(private readonly opts: SandboxServerOptions = {}) {
    this.api = new Api(this.store, this.registry, opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {});
    this.maxBody = opts.maxBodyBytes ?? 3 * 1024 * 1024;
    if (opts.controllers !== false) this.stopControllers = startControllers(this.api);
  }

  setAddress(addr: string): void {
    this.serverAddress = addr;
  }

  shutdown(): void {
    this.stopControllers?.();
    this.dropWatches();
  }

  dropWatches(): number {
    const n = this.openStreams.size;
    for (const s of [...this.openStreams]) s.emit('fledge-end');
    return n;
  }

  private send(
    res: http.ServerResponse,
    code: number,
    body: JsonObject,
    media: Media = { kind: 'json' },
    warnings: string[] = [],
  ): void {
    if (warnings.length > 0)
      res.setHeader(
        'Warning',
        warnings.map((w) => `299 - ${JSON.stringify(w)}`),
      );
    if (media.kind === 'yaml') {
      res.writeHead(code, { 'Content-Type': 'application/yaml' });
      // YAML 1.1 quoting ("yes", "on"...) so that Go's YAML 1.1 decoders read strings back as strings.
      res.end(YAML.stringify(body, { lineWidth: 0, version: '1.1' }));
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, e: DetailedFailure): void {
    if (e.code === 504) res.setHeader('Retry-After', '1');
    this.send(res, e.code, statusBody(e), { kind: 'json' }, e.warnings ?? []);
  }

  private text404(res: http.ServerResponse): void {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  }

  handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.route(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent)
        this.sendError(res, {
          code: 500,
          reason: 'InternalError',
          message: `Internal error occurred: ${message}`,
        });
      else res.end();
    });
  };

  private authenticate(req: http.IncomingMessage): 'ok' | 'anonymous' | 'invalid' {
    if (!this.opts.token) return 'ok';
    const h = req.headers.authorization;
    if (!h) return 'anonymous';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    return m && m[1] === this.opts.token ? 'ok' : 'invalid';
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const segs = url.pathname.split('/').filter((s) => s !== '');
    const auth = this.authenticate(req);
    if (auth === 'invalid') {
      this.sendError(res, { code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
      return;
    }
    // Health and version are public (system:public-info-viewer); everything else needs the token.
    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      res.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end('ok');
      return;
    }
    if (url.pathname === '/version') {
      this.send(res, 200, versionDoc());
      return;
    }
    const media = negotiate(req.headers.accept);
    if (segs[0] === 'openapi' && segs[1] === 'v3' && method === 'GET') {
      if (auth === 'anonymous') {
        this.sendError(res, {
          code: 403,
          reason: 'Forbidden',
          message: `forbidden: User "system:anonymous" cannot get path "${url.pathname}"`,
          details: {},
        });
        return;
      }
      const doc =
        segs.length === 2
          ? openapiIndex(this.registry)
          : segs[2] === 'api'
            ? openapiDoc(this.registry, '', segs[3] ?? '')
            : openapiDoc(this.registry, segs[3] ?? '', segs[4] ?? '');
      if (!doc) this.text404(res);
      else this.send(res, 200, doc);
      return;
    }
    if (segs[0] === 'api' || segs[0] === 'apis') {
      const discovery = this.discovery(segs);
      if (discovery !== undefined) {
        if (auth === 'anonymous') {
          this.sendError(res, {
            code: 403,
            reason: 'Forbidden',
            message: `forbidden: User "system:anonymous" cannot get path "${url.pathname}"`,
            details: {},
          });
          return;
        }
        if (discovery === null) this.text404(res);
        else this.send(res, 200, discovery, media.kind === 'yaml' ? media : { kind: 'json' });
        return;
      }
      const r = this.resolve(segs);
      if (r === 'text404') {
        this.text404(res);
        return;
      }
      if (!r.ok) {
        this.sendError(res, r.error);
        return;
      }
      if (auth === 'anonymous') {
        const route = r.value;
        const verb =
          method === 'GET'
            ? route.name
              ? 'get'
              : url.searchParams.get('watch')
                ? 'watch'
                : 'list'
            : method.toLowerCase();
        const res0 = route.subresource ? `${route.type.resource}/${route.subresource}` : route.type.resource;
        const prefix = route.name
          ? `${route.type.resource}${route.type.group ? `.${route.type.group}` : ''} "${route.name}" is forbidden`
          : `${route.type.resource}${route.type.group ? `.${route.type.group}` : ''} is forbidden`;
        const where = route.namespace ? ` in the namespace "${route.namespace}"` : ' at the cluster scope';
        this.sendError(res, {
          code: 403,
          reason: 'Forbidden',
          message: `${prefix}: User "system:anonymous" cannot ${verb} resource "${res0}" in API group "${route.type.group}"${where}`,
          details: {
            ...(route.name ? { name: route.name } : {}),
            ...(route.type.group ? { group: route.type.group } : {}),
            kind: route.type.resource,
          },
        });
        return;
      }
      await this.resource(req, res, method, url, r.value, media);
      return;
    }
    this.text404(res);
  }

  /** Discovery documents; undefined when the path is not a discovery path, null for a 404. */
  private discovery(segs: string[]): JsonObject | null | undefined {
    if (segs[0] === 'api') {
      if (segs.length === 1) return apiVersionsDoc(this.serverAddress);
      if (segs.length === 2)
        return segs[1] === 'v1' ? (resourceListDoc(this.registry, '', 'v1') ?? null) : null;
      return undefined;
    }
    if (segs.length === 1) return groupListDoc(this.registry);
    if (segs.length === 2) return groupDocFor(this.registry, segs[1] as string) ?? null;
    if (segs.length === 3)
      return resourceListDoc(this.registry, segs[1] as string, segs[2] as string) ?? null;
    return undefined;
  }

  private resolve(segs: string[]): DResult<Route> | 'text404' {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      group = '';
      version = segs[1] ?? '';
      rest = segs.slice(2);
      if (version !== 'v1') return 'text404';
    } else {
      group = segs[1] ?? '';
      version = segs[2] ?? '';
      rest = segs.slice(3);
      if (this.registry.groupVersions(group).length === 0) return 'text404';
      if (!this.registry.groupVersions(group).includes(version)) return 'text404';
    }
    const builtinGroup = !this.registry.all().some((t) => t.custom && t.group === group);
    const unknown = (): DResult<Route> | 'text404' =>
      builtinGroup
        ? failWith(404, 'NotFound', 'the server could not find the requested resource', {})
        : 'text404';
    let namespace: string | undefined;
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
    ) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, subresource, ...extra] = rest;
    if (!resource || extra.length > 0) return unknown();
    const type = this.registry.lookup(group, version, resource);
    if (!type) return unknown();
    if (namespace !== undefined && !type.namespaced) return unknown();
    return { ok: true, value: { type, namespace, name, subresource } };
  }

  private async readObjectBody(
    req: http.IncomingMessage,
    type: ResourceType,
    forKind: string,
  ): Promise<DResult<{ obj: JsonObject; raw: string }>> {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (ct !== '' && ct !== 'application/json' && ct !== 'application/yaml' && ct !== '*/*') {
      return failWith(
        415,
        'UnsupportedMediaType',
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      );
    }
    const body = await readBody(req, this.maxBody);
    if (!body.ok)
      return failWith(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${this.maxBody}`, {});
    const raw = body.text;
    let parsed: Json;
    const unrecognized = (why: string): DResult<{ obj: JsonObject; raw: string }> =>
      badRequest(
        `the object provided is unrecognized (must be of type ${forKind}): ${why} (${snippet(raw)})`,
      );
    if (ct === 'application/yaml') {
      try {
        parsed = YAML.parse(raw) as Json;
      } catch (e) {
        return unrecognized(
          `couldn't get version/kind; yaml parse error: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    } else {
      const err = goJsonError(raw);
      if (err) return unrecognized(`couldn't get version/kind; json parse error: ${err}`);
      parsed = JSON.parse(raw) as Json;
    }
    if (!isObject(parsed))
      return unrecognized(
        "couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct",
      );
    const expected =
      forKind === 'Scale' ? 'autoscaling/v1' : type.group ? `${type.group}/${type.version}` : type.version;
    const apiVersion = parsed.apiVersion;
    const kind = parsed.kind;
    if (type.custom && forKind !== 'Scale') {
      if (typeof kind !== 'string' || kind === '')
        return unrecognized(`Object 'Kind' is missing in '${raw.trim()}'`);
    }
    if (typeof apiVersion === 'string' && apiVersion !== '' && apiVersion !== expected) {
      const acceptable = type.group === 'events.k8s.io' || (type.group === '' && type.resource === 'events');
      if (!acceptable)
        return badRequest(
          `the API version in the data (${apiVersion}) does not match the expected API version (${expected})`,
        );
    }
    if (typeof kind === 'string' && kind !== '' && kind !== forKind) {
      return badRequest(`the kind in the data (${kind}) does not match the expected kind (${forKind})`);
    }
    if (!type.custom || forKind === 'Scale') {
      parsed.apiVersion = forKind === 'Scale' ? 'autoscaling/v1' : expected;
      parsed.kind = forKind;
    }
    return { ok: true, value: { obj: parsed, raw } };
  }

  private patchType(req: http.IncomingMessage, type: ResourceType): DResult<PatchType> {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (ct === 'application/merge-patch+json') return { ok: true, value: 'merge' };
    if (ct === 'application/json-patch+json') return { ok: true, value: 'json' };
    if (ct === 'application/strategic-merge-patch+json')
      return type.custom ? unsupportedPatch() : { ok: true, value: 'strategic' };
    if (type.custom) return unsupportedPatch();
    return failWith(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
  }

  /** A PATCH body: its patch type (from Content-Type) and the decoded JSON. */
  private async readPatch(
    req: http.IncomingMessage,
    type: ResourceType,
  ): Promise<DResult<{ patchType: PatchType; body: Json; raw: string }>> {
    const pt = this.patchType(req, type);
    if (!pt.ok) return pt;
    const raw = await readBody(req, this.maxBody);
    if (!raw.ok)
      return failWith(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${this.maxBody}`, {});
    const err = goJsonError(raw.text);
    if (err) return failWith(400, 'BadRequest', `error decoding patch: ${err}`);
    return { ok: true, value: { patchType: pt.value, body: JSON.parse(raw.text) as Json, raw: raw.text } };
  }

  private writeOptions(
    url: URL,
    raw?: string,
  ): { dryRun: boolean; fieldValidation: string; rawBody?: string } {
    const dry = url.searchParams.getAll('dryRun');
    return {
      dryRun: dry.includes('All'),
      fieldValidation: url.searchParams.get('fieldValidation') ?? 'Warn',
      ...(raw !== undefined ? { rawBody: raw } : {}),
    };
  }

  private async resource(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    url: URL,
    route: Route,
    media: Media,
  ): Promise<void> {
    const { type, namespace, name, subresource } = route;
    const q = url.searchParams;
    if (media.kind === 'none') {
      if (media.asRequested) {
        this.sendError(res, {
          code: 406,
          reason: 'NotAcceptable',
          message: `only the following media types are accepted: ${AVAILABLE}`,
        });
      } else {
        this.sendError(res, {
          code: 406,
          reason: 'NotAcceptable',
          message: `406: Not Acceptable\n\nAvailable representations: ${AVAILABLE}`,
          details: {},
        });
      }
      return;
    }
    if (media.kind === 'protobuf') {
      this.sendProtobufNotAcceptable(res);
      return;
    }
    if (media.kind === 'table') {
      const bad = tableOptionsError(q.get('includeObject'));
      if (bad) return this.sendError(res, bad);
    }
    if (subresource === 'binding' && type.group === '' && type.resource === 'pods' && name) {
      if (method !== 'POST') {
        this.sendError(res, {
          code: 405,
          reason: 'MethodNotAllowed',
          message: 'the server does not allow this method on the requested resource',
          details: {},
        });
        return;
      }
      const body = await this.readObjectBody(req, type, 'Binding');
      if (!body.ok) return this.sendError(res, body.error);
      const bound = this.api.bind(type, namespace, name, body.value.obj);
      if (!bound.ok) return this.sendError(res, bound.error);
      return this.send(res, 201, bound.value, media);
    }
    if (subresource !== undefined && subresource !== 'status' && !(subresource === 'scale' && type.scale)) {
      // kube answers an unknown subresource as if the object itself were missing.
      const missing = name
        ? notFound(type, name)
        : failWith(404, 'NotFound', 'the server could not find the requested resource', {});
      if (!missing.ok) this.sendError(res, missing.error);
      return;
    }
    if (subresource === 'status' && !type.statusSubresource) {
      this.sendError(res, {
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
        details: {},
      });
      return;
    }
    const notAllowed = (): void =>
      this.sendError(res, {
        code: 405,
        reason: 'MethodNotAllowed',
        message: 'the server does not allow this method on the requested resource',
        details: {},
      });

    if (!name) {
      // Collection.
      if (method === 'GET') {
        const watch = q.get('watch');
        if (watch === '1' || watch === 'true') {
          this.watch(req, res, route, url, media);
          return;
        }
        const list = this.api.list(type, namespace, {
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
          limit: q.get('limit') ? Number(q.get('limit')) : undefined,
          continueToken: q.get('continue') ?? undefined,
          resourceVersion: q.get('resourceVersion') ?? undefined,
        });
        if (!list.ok) {
          if (list.error.code === 504) await new Promise((r) => setTimeout(r, 3000));
          this.sendError(res, list.error);
          return;
        }
        const l = list.value;
        if (media.kind === 'table') {
          this.send(
            res,
            200,
            renderTable(this.api, type, l.items, {
              version: media.version,
              includeObject: q.get('includeObject') ?? 'Metadata',
              resourceVersion: l.resourceVersion,
              continueToken: l.continueToken,
              remainingItemCount: l.remainingItemCount,
              single: false,
            }),
          );
          return;
        }
        if (media.kind === 'partial') {
          this.send(
            res,
            200,
            renderPartialList(
              media.version,
              l.items,
              l.resourceVersion,
              l.continueToken,
              l.remainingItemCount,
            ),
          );
          return;
        }
        const metadata: JsonObject = { resourceVersion: l.resourceVersion };
        if (l.continueToken !== undefined) metadata.continue = l.continueToken;
        if (l.remainingItemCount !== undefined) metadata.remainingItemCount = l.remainingItemCount;
        if (type.custom && l.continueToken === undefined) metadata.continue = '';
        const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
        // Items of built-in lists carry no apiVersion/kind; custom resource items keep theirs.
        const items = type.custom ? l.items : l.items.map(({ apiVersion: _v, kind: _k, ...rest }) => rest);
        this.send(res, 200, { kind: type.listKind, apiVersion, metadata, items }, media);
        return;
      }
      if (method === 'POST') {
        if (type.group === '' && type.resource === 'namespaces' && namespace) return notAllowed();
        const body = await this.readObjectBody(req, type, type.kind);
        if (!body.ok) return this.sendError(res, body.error);
        const created = this.api.create(
          type,
          namespace,
          body.value.obj,
          this.writeOptions(url, body.value.raw),
        );
        if (!created.ok) return this.sendError(res, created.error);
        this.send(res, created.value.code, created.value.object, media, created.value.warnings);
        return;
      }
      if (method === 'DELETE') {
        await this.deleteCollection(req, res, route, url, media);
        return;
      }
      return notAllowed();
    }

    // Item.
    if (subresource === 'scale') {
      if (method === 'GET') {
        const s = this.api.getScale(type, namespace, name);
        if (!s.ok) return this.sendError(res, s.error);
        return this.send(res, 200, s.value, media);
      }
      if (method === 'PUT' || method === 'PATCH') {
        let body: Json;
        let pt: PatchType | undefined;
        if (method === 'PATCH') {
          const p = await this.readPatch(req, type);
          if (!p.ok) return this.sendError(res, p.error);
          pt = p.value.patchType;
          body = p.value.body;
        } else {
          const b = await this.readObjectBody(req, type, 'Scale');
          if (!b.ok) return this.sendError(res, b.error);
          body = b.value.obj;
        }
        const s = this.api.writeScale(type, namespace, name, body, pt, this.writeOptions(url));
        if (!s.ok) return this.sendError(res, s.error);
        return this.send(res, 200, s.value, media);
      }
      return notAllowed();
    }
    const sub: '' | 'status' = subresource === 'status' ? 'status' : '';
    if (method === 'GET') {
      const got = this.api.get(type, namespace, name);
      if (!got.ok) return this.sendError(res, got.error);
      if (media.kind === 'table') {
        const meta = got.value.metadata as JsonObject;
        this.send(
          res,
          200,
          renderTable(this.api, type, [got.value], {
            version: media.version,
            includeObject: q.get('includeObject') ?? 'Metadata',
            resourceVersion: str(meta.resourceVersion ?? ''),
            single: true,
          }),
        );
        return;
      }
      if (media.kind === 'partial') return this.send(res, 200, renderPartialObject(media.version, got.value));
      return this.send(res, 200, got.value, media);
    }
    if (method === 'PUT') {
      const body = await this.readObjectBody(req, type, type.kind);
      if (!body.ok) return this.sendError(res, body.error);
      const updated = this.api.update(
        type,
        namespace,
        name,
        sub,
        body.value.obj,
        this.writeOptions(url, body.value.raw),
      );
      if (!updated.ok) return this.sendError(res, updated.error);
      return this.send(res, updated.value.code, updated.value.object, media, updated.value.warnings);
    }
    if (method === 'PATCH') {
      const p = await this.readPatch(req, type);
      if (!p.ok) return this.sendError(res, p.error);
      const patched = this.api.patch(
        type,
        namespace,
        name,
        sub,
        p.value.patchType,
        p.value.body,
        this.writeOptions(url, p.value.raw),
      );
      if (!patched.ok) return this.sendError(res, patched.error);
      return this.send(res, patched.value.code, patched.value.object, media, patched.value.warnings);
    }
    if (method === 'DELETE' && sub === '') {
      const opts = await this.deleteOptions(req, url);
      if (!opts.ok) return this.sendError(res, opts.error);
      const del = this.api.delete(type, namespace, name, opts.value);
      if (!del.ok) return this.sendError(res, del.error);
      return this.send(res, del.value.code, del.value.body, media);
    }
    return notAllowed();
  }

  private async deleteOptions(req: http.IncomingMessage, url: URL): Promise<DResult<DeleteOptions>> {
    const body = await readBody(req, this.maxBody);
    const out: DeleteOptions = {};
    if (body.ok && body.text.trim() !== '') {
      const err = goJsonError(body.text);
      if (err)
        return badRequest(
          `the object provided is unrecognized (must be of type DeleteOptions): couldn't get version/kind; json parse error: ${err} (${snippet(body.text)})`,
        );
      const o = JSON.parse(body.text) as Json;
      if (isObject(o)) {
        if (typeof o.propagationPolicy === 'string') out.propagationPolicy = o.propagationPolicy;
        if (typeof o.orphanDependents === 'boolean') out.orphanDependents = o.orphanDependents;
        if (typeof o.gracePeriodSeconds === 'number') out.gracePeriodSeconds = o.gracePeriodSeconds;
        if (isObject(o.preconditions)) {
          out.preconditions = {};
          if (typeof o.preconditions.uid === 'string') out.preconditions.uid = o.preconditions.uid;
          if (typeof o.preconditions.resourceVersion === 'string')
            out.preconditions.resourceVersion = o.preconditions.resourceVersion;
        }
        if (Array.isArray(o.dryRun) && o.dryRun.includes('All')) out.dryRun = true;
      }
    }
    const q = url.searchParams;
    if (q.get('propagationPolicy')) out.propagationPolicy = q.get('propagationPolicy') ?? undefined;
    if (q.get('gracePeriodSeconds')) out.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
    if (q.get('orphanDependents')) out.orphanDependents = q.get('orphanDependents') === 'true';
    if (q.getAll('dryRun').includes('All')) out.dryRun = true;
    if (
      out.propagationPolicy !== undefined &&
      !['Orphan', 'Background', 'Foreground'].includes(out.propagationPolicy)
    ) {
      return failWith(
        422,
        'Invalid',
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${out.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
        {
          kind: 'DeleteOptions',
          group: 'meta.k8s.io',
          causes: [
            {
              reason: 'FieldValueNotSupported',
              message: `Unsupported value: "${out.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
              field: 'propagationPolicy',
            },
          ],
        },
      );
    }
    return { ok: true, value: out };
  }

  private async deleteCollection(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: Route,
    url: URL,
    media: Media,
  ): Promise<void> {
    const { type, namespace } = route;
    if (!type.verbs.includes('deletecollection')) {
      this.sendError(res, {
        code: 405,
        reason: 'MethodNotAllowed',
        message: 'the server does not allow this method on the requested resource',
        details: {},
      });
      return;
    }
    const opts = await this.deleteOptions(req, url);
    if (!opts.ok) return this.sendError(res, opts.error);
    const q = url.searchParams;
    const list = this.api.list(type, namespace, {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    if (!list.ok) return this.sendError(res, list.error);
    const deleted: JsonObject[] = [];
    for (const item of list.value.items) {
      const meta = item.metadata as JsonObject;
      const d = this.api.delete(type, meta.namespace as string | undefined, str(meta.name), opts.value);
      if (d.ok) deleted.push(item);
    }
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    this.send(
      res,
      200,
      {
        kind: type.listKind,
        apiVersion,
        metadata: { resourceVersion: str(this.store.currentRv()) },
        items: deleted,
      },
      media,
    );
  }

  private watch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: Route,
    url: URL,
    media: Media,
  ): void {
    const q = url.searchParams;
    const sel = this.api.parseSelectors(
      route.type,
      q.get('labelSelector') ?? undefined,
      q.get('fieldSelector') ?? undefined,
    );
    if (!sel.ok) return this.sendError(res, sel.error);
    const timeoutSeconds = q.get('timeoutSeconds')
      ? Number(q.get('timeoutSeconds'))
      : 1800 + Math.floor(Math.random() * 1800);
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    let ended = false;
    const watch: { handle?: { stop(): void; lastRv(): number } } = {};
    let tableHeadersSent = false;
    const timers: NodeJS.Timeout[] = [];
    const writeLine = (type: WatchEventType, object: JsonObject): void => {
      if (ended) return;
      let obj = object;
      if (media.kind === 'table' && type !== 'ERROR' && type !== 'BOOKMARK') {
        // Column definitions go with the first Table of a watch only, as kube sends them.
        obj = renderTableEvent(
          this.api,
          route.type,
          object,
          media.version,
          q.get('includeObject') ?? 'Metadata',
          !tableHeadersSent,
        );
        tableHeadersSent = true;
      }
      if (media.kind === 'partial' && type !== 'ERROR' && type !== 'BOOKMARK')
        obj = renderPartialObject(media.version, object);
      pending.push(
        obj === object ? encodedEvent(type, object) : `${JSON.stringify({ type, object: obj })}\n`,
      );
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    // Lines of one event-loop turn go out in one write: one syscall per watcher, not per event.
    const pending: string[] = [];
    let flushScheduled = false;
    const flush = (): void => {
      flushScheduled = false;
      if (pending.length === 0 || res.writableEnded) return;
      res.write(pending.join(''));
      pending.length = 0;
    };
    const finish = (): void => {
      if (ended) return;
      ended = true;
      for (const t of timers) clearTimeout(t);
      watch.handle?.stop();
      this.openStreams.delete(res);
      flush();
      res.end();
    };
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) {
      this.sendError(res, {
        code: 500,
        reason: '' as never,
        message: `resourceVersion: Invalid value: "${rvParam}": strconv.ParseUint: parsing "${rvParam}": invalid syntax`,
      });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    this.openStreams.add(res);
    const started = startWatch(
      this.api,
      {
        type: route.type,
        namespace: route.namespace,
        selectors: sel.value,
        resourceVersion: q.get('resourceVersion') ?? undefined,
      },
      { event: writeLine, end: finish },
    );
    if (!started.ok) {
      // Headers are out already only when the watch started; a malformed rv fails before that.
      ended = true;
      this.openStreams.delete(res);
      res.end(JSON.stringify(statusBody(started.error)));
      return;
    }
    watch.handle = started.value;
    if (ended) return;
    req.on('close', finish);
    res.on('close', finish);
    res.on('fledge-end', finish);
    timers.push(setTimeout(finish, Math.max(0, timeoutSeconds) * 1000));
    if (bookmarks) {
      const bookmark = (): void => {
        const apiVersion = route.type.group
          ? `${route.type.group}/${route.type.version}`
          : route.type.version;
        writeLine('BOOKMARK', {
          kind: route.type.kind,
          apiVersion,
          metadata: { resourceVersion: String(watch.handle?.lastRv() ?? this.store.currentRv()) },
        });
      };
      // kube sends a bookmark shortly before the watch times out, and about once a minute.
      const firstMs = Math.max(0, (timeoutSeconds - 2) * 1000);
      if (timeoutSeconds > 2) timers.push(setTimeout(bookmark, Math.min(firstMs, 60_000)));
      const interval = setInterval(bookmark, 60_000);
      timers.push(interval);
    }
  }

  /** The sandbox speaks JSON and YAML only; a protobuf-only Accept gets kube's 406, itself in protobuf. */
  private sendProtobufNotAcceptable(res: http.ServerResponse): void {
    const body = protobufStatus({
      status: 'Failure',
      message: `only the following media types are accepted: ${AVAILABLE}`,
      reason: 'NotAcceptable',
      code: 406,
    });
    res.writeHead(406, {
      'Content-Type': 'application/vnd.kubernetes.protobuf',
      'Content-Length': body.length,
    });
    res.end(body);
  }
}

/** Starts the sandbox API server on 127.0.0.1. */
export async function startSandboxServer(opts: SandboxServerOptions = {}): Promise<SandboxServer> {
  const app = new SandboxHttp(opts);
  const server = http.createServer(app.handle);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The namespaces every cluster starts with.
  const nsType = app.registry.lookup('', 'v1', 'namespaces');
  if (nsType) {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      app.api.create(nsType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }
  app.setAddress(`127.0.0.1:${port}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    token: opts.token,
    api: app.api,
    dropWatches: () => app.dropWatches(),
    compact: () => app.store.compact(),
    writeKubeconfig(file: string, namespace = 'default'): string {
      mkdirSync(path.dirname(file), { recursive: true });
      const user: JsonObject = opts.token ? { token: opts.token } : {};
      const cfg = {
        apiVersion: 'v1',
        kind: 'Config',
        // client-node refuses plain HTTP unless TLS verification is marked as skipped.
        clusters: [{ name: 'fledge-sandbox', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fledge-sandbox', user }],
        contexts: [
          {
            name: 'fledge-sandbox',
            context: { cluster: 'fledge-sandbox', user: 'fledge-sandbox', namespace },
          },
        ],
        'current-context': 'fledge-sandbox',
      };
      writeFileSync(file, YAML.stringify(cfg), { mode: 0o600 });
      return file;
    },
    close: () =>
      new Promise<void>((resolve) => {
        app.shutdown();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const randomToken = (): string => randomBytes(24).toString('hex');
