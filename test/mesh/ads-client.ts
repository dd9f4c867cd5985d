// Test helpers: raw SotW and Delta ADS clients (grpc-js bidi streams on the proto-loader ads.proto)
// that queue every (Delta)DiscoveryResponse, decoding resource names, so tests drive the protocol by hand.
import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { envoyRoot } from '../../mesh/snapshot.js';
import { typeOfUrl } from '../../mesh/protos.js';
import { TYPE_URLS } from '../../mesh/translate/index.js';
import { waitFor } from '../helpers/wait-for.js';

export interface RawResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  /** Names of the resources (Listener/Cluster/RouteConfiguration name, ClusterLoadAssignment cluster_name). */
  names: string[];
  /** The Any bytes of each resource's value, by name. */
  values: Map<string, Buffer>;
}

export interface RawRequest {
  type_url: string;
  resource_names?: string[];
  version_info?: string;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
  node?: object;
}

/** A Struct in proto-loader object form (protobufjs's built-in struct.proto: camelCase) from strings and string maps. */
export function struct(fields: Record<string, string | Record<string, string>>): object {
  return {
    fields: Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [
        k,
        typeof v === 'string' ? { stringValue: v } : { structValue: struct(v) },
      ]),
    ),
  };
}

function decodeResponse(obj: object): RawResponse {
  const o = obj as {
    version_info: string;
    type_url: string;
    nonce: string;
    resources: Array<{ type_url: string; value: Buffer }>;
  };
  const names: string[] = [];
  const values = new Map<string, Buffer>();
  for (const r of o.resources) {
    const msg = typeOfUrl(envoyRoot(), r.type_url).decode(r.value) as unknown as Record<string, unknown>;
    const name = String(r.type_url === TYPE_URLS.endpoint ? msg['cluster_name'] : msg['name']);
    names.push(name);
    values.set(name, r.value);
  }
  return { version_info: o.version_info, type_url: o.type_url, nonce: o.nonce, names, values };
}

export class RawAdsClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<RawRequest, RawResponse>;
  private readonly queue: RawResponse[] = [];
  private waiter: (() => void) | undefined;
  /** The status the stream ended with, once it ended. */
  status: grpc.StatusObject | undefined;
  first = true;

  constructor(
    port: number,
    service: ServiceDefinition,
    private readonly node: object,
  ) {
    const method = service['StreamAggregatedResources'];
    if (!method) throw new Error('no StreamAggregatedResources');
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(
      method.path,
      (r: RawRequest) => method.requestSerialize(r),
      (b: Buffer) => decodeResponse(method.responseDeserialize(b)),
    );
    this.call.on('data', (r: RawResponse) => {
      this.queue.push(r);
      this.waiter?.();
    });
    this.call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.waiter?.();
    });
    this.call.on('error', () => undefined);
  }

  /** Sends a request; the first one carries the node. */
  send(req: RawRequest): void {
    this.call.write(this.first ? { node: this.node, ...req } : req);
    this.first = false;
  }

  /** The next response, or an error after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      const left = deadline - Date.now();
      if (left <= 0 || this.status)
        throw new Error(
          `no response within ${timeoutMs} ms${this.status ? `: stream ended ${this.status.code} ${this.status.details}` : ''}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Resolves with the responses that arrived within `ms` (to assert that none did). */
  async drain(ms = 150): Promise<RawResponse[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  /** Sends the ACK of a response with the same names. */
  ack(r: RawResponse, names: string[] = []): void {
    this.send({
      type_url: r.type_url,
      version_info: r.version_info,
      response_nonce: r.nonce,
      resource_names: names,
    });
  }

  /** Resolves when the stream has ended with a status. */
  async ended(timeoutMs = 3000): Promise<grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (!this.status && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!this.status) throw new Error('stream did not end');
    return this.status;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export interface RawDeltaRequest {
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
  node?: object;
}

export interface RawDeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  /** Resource.name of each resource, in the order sent (checked against the name inside the resource). */
  names: string[];
  /** Resource.version by name. */
  versions: Map<string, string>;
  removed: string[];
}

function decodeDeltaResponse(obj: object): RawDeltaResponse {
  const o = obj as {
    system_version_info: string;
    type_url: string;
    nonce: string;
    removed_resources: string[];
    resources: Array<{ name: string; version: string; resource: { type_url: string; value: Buffer } | null }>;
  };
  const versions = new Map<string, string>();
  for (const r of o.resources) {
    if (!r.resource) throw new Error(`delta resource ${r.name} has no body`);
    const msg = typeOfUrl(envoyRoot(), r.resource.type_url).decode(r.resource.value) as unknown as Record<
      string,
      unknown
    >;
    const inner = String(r.resource.type_url === TYPE_URLS.endpoint ? msg['cluster_name'] : msg['name']);
    if (inner !== r.name) throw new Error(`delta resource named ${r.name} holds ${inner}`);
    versions.set(r.name, r.version);
  }
  return {
    system_version_info: o.system_version_info,
    type_url: o.type_url,
    nonce: o.nonce,
    names: o.resources.map((r) => r.name),
    versions,
    removed: [...o.removed_resources],
  };
}

/**
 * A raw Delta ADS client (DeltaAggregatedResources): queues every response; `next()` polls with waitFor,
 * so ordering assertions ("the next response is …") need no sleeps.
 */
export class RawDeltaClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<RawDeltaRequest, RawDeltaResponse>;
  /** Responses received and not yet taken by next(). */
  readonly received: RawDeltaResponse[] = [];
  /** The status the stream ended with, once it ended. */
  status: grpc.StatusObject | undefined;
  private sentNode = false;

  constructor(
    port: number,
    service: ServiceDefinition,
    private readonly node: object,
  ) {
    const method = service['DeltaAggregatedResources'];
    if (!method) throw new Error('no DeltaAggregatedResources');
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(
      method.path,
      (r: RawDeltaRequest) => method.requestSerialize(r),
      (b: Buffer) => decodeDeltaResponse(method.responseDeserialize(b)),
    );
    this.call.on('data', (r: RawDeltaResponse) => this.received.push(r));
    this.call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
    });
    this.call.on('error', () => undefined);
  }

  /** Sends a request; the first one carries the node. */
  send(req: RawDeltaRequest): void {
    this.call.write(this.sentNode ? req : { node: this.node, ...req });
    this.sentNode = true;
  }

  /** The next response; rejects if the stream ends or none arrives within `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<RawDeltaResponse> {
    return waitFor(
      () => {
        if (this.received.length === 0 && this.status)
          throw new Error(`stream ended ${this.status.code} ${this.status.details}`);
        return this.received.shift();
      },
      { timeoutMs, intervalMs: 5, what: 'a delta response' },
    );
  }

  /** ACKs a response (optionally changing subscriptions in the same request). */
  ack(r: RawDeltaResponse, more: Omit<RawDeltaRequest, 'type_url' | 'response_nonce'> = {}): void {
    this.send({ type_url: r.type_url, response_nonce: r.nonce, ...more });
  }

  /** NACKs a response. */
  nack(r: RawDeltaResponse, message: string): void {
    this.send({ type_url: r.type_url, response_nonce: r.nonce, error_detail: { code: 3, message } });
  }

  /** Resolves when the stream has ended with a status. */
  async ended(timeoutMs = 3000): Promise<grpc.StatusObject> {
    return waitFor(() => this.status, { timeoutMs, what: 'the delta stream to end' });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
