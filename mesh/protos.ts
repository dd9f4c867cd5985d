// The Envoy v3 protos shipped with @grpc/grpc-js-xds, loaded with protobufjs (field names kept as in
// the .proto, as translation emits them), and encoding of translated resources.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import type { ProtoObject } from './translate/proto.js';
import { TYPE_URL_PREFIX } from './translate/proto.js';

/** Every file whose messages translation emits (resources and the extensions inside their Anys). */
export const ENVOY_PROTO_FILES = [
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/service/discovery/v3/ads.proto',
] as const;

/**
 * Include dirs: the four under @grpc/grpc-js-xds/deps (TESTING.md) and protobufjs's own, which holds
 * google/protobuf/descriptor.proto (the other well-known types are built into protobufjs).
 */
export function envoyIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xds = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const pbjs = path.dirname(require.resolve('protobufjs/package.json'));
  return [
    ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(xds, 'deps', d)),
    pbjs,
  ];
}

/** Loads (synchronously, ~0.2 s) and resolves the Envoy protos into a new Root. Call once per process. */
export function loadEnvoyProtos(): protobuf.Root {
  const dirs = envoyIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const d of dirs) {
      const candidate = path.join(d, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync([...ENVOY_PROTO_FILES], { keepCase: true });
  root.resolveAll();
  return root;
}

/** The message type of a type URL (`type.googleapis.com/envoy.config.cluster.v3.Cluster`). */
export function typeOfUrl(root: protobuf.Root, typeUrl: string): protobuf.Type {
  return root.lookupType(
    typeUrl.startsWith(TYPE_URL_PREFIX) ? typeUrl.slice(TYPE_URL_PREFIX.length) : typeUrl,
  );
}

/** Encodes one resource (fromObject, then encode). Fields fromObject does not know are dropped: check first. */
export function encodeResource(root: protobuf.Root, typeUrl: string, resource: ProtoObject): Uint8Array {
  const type = typeOfUrl(root, typeUrl);
  return type.encode(type.fromObject(resource)).finish();
}
