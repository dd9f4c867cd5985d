// Many lightweight state-of-the-world ADS streams for the xDS benchmark: each behaves like a proxyless gRPC
// client (one stream, a fixed subscription, every response ACKed with its version and nonce at once).
import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { struct } from '../test/mesh/ads-client.js';

/** The fields of a DiscoveryResponse a client needs to ACK it; the resources are skipped, not decoded. */
interface ResponseHead {
  version: string;
  typeUrl: string;
  nonce: string;
}

/** DiscoveryResponse {version_info = 1, resources = 2, type_url = 4, nonce = 5}. */
function decodeHead(buf: Buffer): ResponseHead {
  const r = protobuf.Reader.create(buf);
  const head: ResponseHead = { version: '', typeUrl: '', nonce: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) head.version = r.string();
    else if (field === 4) head.typeUrl = r.string();
    else if (field === 5) head.nonce = r.string();
    else r.skipType(tag & 7);
  }
  return head;
}

/** DiscoveryRequest {version_info = 1, resource_names = 3, type_url = 4, response_nonce = 5}. */
function encodeAck(head: ResponseHead, names: readonly string[]): Buffer {
  const w = protobuf.Writer.create();
  if (head.version) w.uint32(10).string(head.version);
  for (const n of names) w.uint32(26).string(n);
  w.uint32(34).string(head.typeUrl);
  w.uint32(42).string(head.nonce);
  return Buffer.from(w.finish());
}

export interface FleetOptions {
  port: number;
  /** The ADS service (proto-loader), for the first request of each stream (it carries the node). */
  service: ServiceDefinition;
  /** Per type URL, the resource names every stream subscribes to; requested in this order. */
  names: Readonly<Record<string, readonly string[]>>;
  /** Streams multiplexed on one HTTP/2 connection. */
  streamsPerChannel: number;
}

/**
 * Streams are opened over `ceil(n / streamsPerChannel)` grpc-js channels, each with its own connection
 * (a distinct channel option keeps grpc-js from sharing one subchannel between them).
 */
export class AdsFleet {
  private readonly channels: grpc.Client[] = [];
  private readonly calls: Array<grpc.ClientDuplexStream<Buffer, ResponseHead>> = [];
  /** DiscoveryResponses received (each is ACKed). */
  responses = 0;
  /** Streams that ended with an error status other than the CANCELLED of close(). */
  failures = 0;
  lastError = '';

  constructor(private readonly opts: FleetOptions) {}

  get size(): number {
    return this.calls.length;
  }

  /** Opens streams until there are `total`; node ids are bench-0, bench-1, … */
  grow(total: number): void {
    const method = this.opts.service['StreamAggregatedResources'];
    if (!method) throw new Error('ADS service has no StreamAggregatedResources');
    const types = Object.keys(this.opts.names);
    while (this.calls.length < total) {
      const i = this.calls.length;
      const ch = Math.floor(i / this.opts.streamsPerChannel);
      let client = this.channels[ch];
      if (!client) {
        client = new grpc.Client(`127.0.0.1:${this.opts.port}`, grpc.credentials.createInsecure(), {
          'fledge.bench.channel': ch,
        });
        this.channels.push(client);
      }
      const call = client.makeBidiStreamRequest(method.path, (b: Buffer) => b, decodeHead);
      call.on('data', (head: ResponseHead) => {
        this.responses++;
        call.write(encodeAck(head, this.opts.names[head.typeUrl] ?? []));
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (err.code === grpc.status.CANCELLED) return;
        this.failures++;
        this.lastError = `${grpc.status[err.code]}: ${err.details}`;
      });
      types.forEach((typeUrl, k) => {
        const req = {
          type_url: typeUrl,
          resource_names: this.opts.names[typeUrl] ?? [],
          ...(k === 0
            ? { node: { id: `bench-${i}`, metadata: struct({ kind: 'proxyless', namespace: 'bench' }) } }
            : {}),
        };
        call.write(method.requestSerialize(req));
      });
      this.calls.push(call);
    }
  }

  close(): void {
    for (const c of this.calls.splice(0)) c.cancel();
    for (const c of this.channels.splice(0)) c.close();
  }
}
