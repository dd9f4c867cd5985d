// The proto check catches what fromObject silently drops or accepts: misspelled fields (also inside
// Anys), bad enum values, oneof clashes, deprecated fields and the PGV rules Envoy enforces.
import type protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeResource, loadEnvoyProtos, typeOfUrl } from '../../mesh/protos.js';
import { TYPE_URLS } from '../../mesh/translate/index.js';
import { checkProtoObject } from './proto-check.js';

let root: protobuf.Root;
beforeAll(() => {
  root = loadEnvoyProtos();
});

const cluster = (extra: Record<string, unknown>): Record<string, unknown> => ({
  name: 'outbound|80||a.b.svc.cluster.local',
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
  lb_policy: 'ROUND_ROBIN',
  ...extra,
});
const check = (typeUrl: string, value: unknown): string[] =>
  checkProtoObject(root, typeOfUrl(root, typeUrl), value);

describe('checkProtoObject', () => {
  it('accepts a well-formed cluster', () => {
    expect(check(TYPE_URLS.cluster, cluster({}))).toEqual([]);
  });

  it('fails a misspelled field that fromObject would drop silently', () => {
    const typo = cluster({ lb_polcy: 'RING_HASH' });
    expect(check(TYPE_URLS.cluster, typo)).toEqual([
      '$.lb_polcy: envoy.config.cluster.v3.Cluster has no field lb_polcy',
    ]);
    // What the check guards against: the typo encodes without complaint.
    expect(encodeResource(root, TYPE_URLS.cluster, typo as never).length).toBeGreaterThan(0);
  });

  it('checks inside Any fields by their @type, and refuses unknown types', () => {
    const listener = (filter: Record<string, unknown>): unknown => ({
      name: 'l',
      api_listener: {
        api_listener: {
          '@type':
            'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'l',
          rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'r' },
          http_filters: [filter],
        },
      },
    });
    expect(
      check(
        TYPE_URLS.listener,
        listener({
          name: 'envoy.filters.http.router',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
            suppres_headers: true,
          },
        }),
      ),
    ).toEqual([
      '$.api_listener.api_listener<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>.http_filters[0].typed_config<envoy.extensions.filters.http.router.v3.Router>.suppres_headers: envoy.extensions.filters.http.router.v3.Router has no field suppres_headers',
    ]);
    expect(
      check(
        TYPE_URLS.listener,
        listener({
          name: 'x',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope' },
        }),
      ),
    ).toEqual([
      '$.api_listener.api_listener<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>.http_filters[0].typed_config: unknown @type type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope',
    ]);
  });

  it('fails bad enum values, wrong scalar types, oneof clashes and deprecated fields', () => {
    expect(
      check(
        TYPE_URLS.cluster,
        cluster({
          lb_policy: 'LEAST_CONNECTIONS',
          per_connection_buffer_limit_bytes: { value: -1 },
          max_requests_per_connection: { value: 1 },
        }),
      ),
    ).toEqual([
      '$.lb_policy: "LEAST_CONNECTIONS" is not a value of enum envoy.config.cluster.v3.Cluster.LbPolicy',
      '$.per_connection_buffer_limit_bytes.value: expected a uint32, got -1',
      '$.max_requests_per_connection: deprecated field',
    ]);
    expect(check(TYPE_URLS.cluster, cluster({ cluster_type: { name: 'x' } }))).toContain(
      '$: oneof cluster_discovery_type has several fields set: type, cluster_type',
    );
  });

  it("enforces Envoy's validation rules: required fields, min_len, ranges, min_items", () => {
    expect(
      check(TYPE_URLS.endpoint, {
        cluster_name: '',
        endpoints: [
          {
            load_balancing_weight: { value: 0 },
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 70000 } } } },
            ],
          },
        ],
      }),
    ).toEqual([
      '$.cluster_name: needs at least 1 characters',
      '$.endpoints[0].load_balancing_weight: 0 must be >= 1',
      '$.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: 70000 must be <= 65535',
    ]);
    expect(
      check(TYPE_URLS.route, {
        name: 'r',
        virtual_hosts: [{ name: 'v', domains: [], routes: [{ route: { cluster: 'c' } }] }],
      }),
    ).toEqual([
      '$.virtual_hosts[0].domains: needs at least 1 items',
      '$.virtual_hosts[0].routes[0].match: required',
    ]);
  });
});
