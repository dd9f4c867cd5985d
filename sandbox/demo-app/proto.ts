// The demo app's gRPC contract (demo.proto): the service definition for the server and a small typed
// client of fledge.demo.v1.Demo for tests and traffic generators.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { loadSync } from '@grpc/proto-loader';

export const DEMO_PROTO_PATH = fileURLToPath(new URL('./demo.proto', import.meta.url));
/** Fully qualified service name: the gRPC path prefix, the health-check service name and a metric label. */
export const DEMO_SERVICE_NAME = 'fledge.demo.v1.Demo';

export interface EchoRequest {
  message: string;
}

export interface EchoResponse {
  message: string;
  version: string;
  pod: string;
}

/** Loads demo.proto (a few ms; callers keep the result) and returns the Demo service definition. */
export function loadDemoService(): ServiceDefinition {
  const pkg = loadSync(DEMO_PROTO_PATH, { keepCase: true, defaults: true, longs: String, enums: String });
  const def = pkg[DEMO_SERVICE_NAME];
  if (def === undefined || 'format' in def)
    throw new Error(`${DEMO_PROTO_PATH} defines no ${DEMO_SERVICE_NAME}`);
  return def;
}

/** The Echo method of a loaded Demo service definition. */
export function echoMethod(service: ServiceDefinition): MethodDefinition<object, object> {
  const m = service['Echo'];
  if (m === undefined) throw new Error(`${DEMO_SERVICE_NAME} has no Echo method`);
  return m;
}

function stringField(obj: object, name: string): string {
  const v = (obj as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : '';
}

/** A decoded EchoRequest (proto3: absent fields are empty). */
export const toEchoRequest = (obj: object): EchoRequest => ({ message: stringField(obj, 'message') });

export const toEchoResponse = (obj: object): EchoResponse => ({
  message: stringField(obj, 'message'),
  version: stringField(obj, 'version'),
  pod: stringField(obj, 'pod'),
});

/** A call's outcome: failures (status codes other than OK) are data, so load loops can count them. */
export type EchoResult =
  { ok: true; value: EchoResponse } | { ok: false; code: grpc.status; codeName: string; details: string };

export interface EchoCallOptions {
  /** Deadline of the call; default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A real @grpc/grpc-js client of fledge.demo.v1.Demo. */
export class DemoClient {
  private readonly client: grpc.Client;
  private readonly echoDef: MethodDefinition<object, object>;

  /** `target` is any grpc-js target: `127.0.0.1:9090`, `xds:///demo`, … */
  constructor(target: string, channelOptions: grpc.ChannelOptions = {}, service = loadDemoService()) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), channelOptions);
    this.echoDef = echoMethod(service);
  }

  echo(request: EchoRequest, opts: EchoCallOptions = {}): Promise<EchoResult> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    return new Promise((resolve) => {
      const call = this.client.makeUnaryRequest(
        this.echoDef.path,
        (req: EchoRequest) => this.echoDef.requestSerialize(req),
        (buf: Buffer) => toEchoResponse(this.echoDef.responseDeserialize(buf)),
        request,
        new grpc.Metadata(),
        { deadline },
        (err, value) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err)
            resolve({ ok: false, code: err.code, codeName: grpc.status[err.code], details: err.details });
          else if (value === undefined)
            resolve({ ok: false, code: grpc.status.INTERNAL, codeName: 'INTERNAL', details: 'no response' });
          else resolve({ ok: true, value });
        },
      );
      const onAbort = (): void => call.cancel();
      if (opts.signal?.aborted) call.cancel();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}
