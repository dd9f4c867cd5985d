// Listeners (and, for sidecars, their RDS route configurations): per-port outbound listeners for
// Envoy sidecars; API listeners `<host>:<port>` with an inline route config for proxyless gRPC.
import type { ServiceModel, ServicePortModel } from '../model.js';
import type { TranslateContext } from './context.js';
import { derived } from './context.js';
import type { RouteMemo } from './memo.js';
import { isHttp, portProtocol } from './policy.js';
import type { ProtoObject, ProtoValue } from './proto.js';
import { ADS_CONFIG_SOURCE, any, EXT, FILTER, prune, shortHash } from './proto.js';
import { httpRoutes, tcpProxy } from './routes.js';

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * HTTP filters in order: fault (per-route configs switch it on), CORS (sidecars only: gRPC clients
 * NACK filters they do not know), router last.
 */
function httpFilters(ctx: TranslateContext): ProtoObject[] {
  return [
    { name: FILTER.fault, typed_config: any(EXT.fault) },
    ...(ctx.kind === 'sidecar' ? [{ name: FILTER.cors, typed_config: any(EXT.cors) }] : []),
    { name: FILTER.router, typed_config: any(EXT.router) },
  ];
}

const virtualHostName = (service: ServiceModel, port: ServicePortModel): string =>
  `${service.hostname}:${port.port}`;

/** Host names a sidecar's callers may use for a Service (before de-duplication across Services). */
function sidecarDomains(service: ServiceModel, port: ServicePortModel): string[] {
  const { name, namespace } = service;
  const hosts = [service.hostname, `${name}.${namespace}.svc`, `${name}.${namespace}`, name];
  if (service.clusterIP)
    hosts.push(service.clusterIP.includes(':') ? `[${service.clusterIP}]` : service.clusterIP);
  return hosts.flatMap((h) => [h, `${h}:${port.port}`]);
}

export interface SidecarListeners {
  listeners: Map<string, ProtoObject>;
  routes: Map<string, ProtoObject>;
}

/** `make()` through the memo when there is one. */
function kept<T extends ProtoValue>(
  ctx: TranslateContext,
  memo: RouteMemo | undefined,
  key: string,
  service: ServiceModel,
  make: () => T,
): T {
  return memo ? memo.get(ctx, key, ctx.virtualServices.get(service.hostname), make) : make();
}

/** One HTTP port's virtual hosts: each Service port with its name, its unique domains and its memo key. */
interface HttpPortLayout {
  port: number;
  hosts: Array<{
    service: ServiceModel;
    port: ServicePortModel;
    name: string;
    domains: string[];
    key: string;
  }>;
}

/** What sidecar listeners take from the Services alone (not from VirtualServices), with the notes it makes. */
interface SidecarLayout {
  http: HttpPortLayout[];
  tcp: Array<{ service: ServiceModel; port: ServicePortModel }>;
  notes: string[];
}

function sidecarLayout(services: Iterable<ServiceModel>): SidecarLayout {
  const httpByPort = new Map<number, Array<{ service: ServiceModel; port: ServicePortModel }>>();
  const tcp: Array<{ service: ServiceModel; port: ServicePortModel }> = [];
  for (const service of services)
    for (const port of service.ports) {
      const protocol = portProtocol(port);
      if (isHttp(protocol)) {
        let list = httpByPort.get(port.port);
        if (!list) httpByPort.set(port.port, (list = []));
        list.push({ service, port });
      } else if (protocol === 'tcp') tcp.push({ service, port });
    }
  const notes: string[] = [];
  const http: HttpPortLayout[] = [];
  for (const [portNumber, entries] of [...httpByPort.entries()].sort(([a], [b]) => a - b)) {
    const counts = new Map<string, number>();
    const domains = entries.map(({ service, port }) => [...new Set(sidecarDomains(service, port))]);
    for (const ds of domains) for (const d of ds) counts.set(d, (counts.get(d) ?? 0) + 1);
    const hosts = entries.map(({ service, port }, i) => {
      const all = domains[i] ?? [];
      const unique = all.filter((d) => counts.get(d) === 1);
      for (const d of all)
        if (counts.get(d) !== 1)
          notes.push(`route ${portNumber}: domain ${d} is shared by several Services; left out`);
      const name = virtualHostName(service, port);
      return { service, port, name, domains: unique, key: `vh\u0000${name}\u0000${unique.join(',')}` };
    });
    http.push({ port: portNumber, hosts });
  }
  return { http, tcp, notes };
}

/**
 * Sidecar outbound listeners. HTTP ports: one listener `0.0.0.0_<port>` per port number, routes
 * over RDS in route configuration `<port>` with one virtual host per Service (`<fqdn>:<port>`).
 * A domain two Services would share (a short name used in two namespaces) is left out of both:
 * Envoy refuses duplicate domains, and which one was meant depends on the caller's namespace.
 * TCP ports: one listener `<clusterIP>_<port>` per Service with tcp_proxy; left out for headless
 * Services and for port numbers an HTTP listener already binds on 0.0.0.0.
 */
export function sidecarListeners(ctx: TranslateContext, memo?: RouteMemo): SidecarListeners {
  // The layout depends on the Services only: kept while the model's Service list is the same one.
  const layout = derived(ctx.serviceList, 'sidecar layout', () => sidecarLayout(ctx.services.values()));
  for (const n of layout.notes) ctx.notes.add(n);
  const httpPorts = new Set(layout.http.map((h) => h.port));

  const listeners = new Map<string, ProtoObject>();
  const routes = new Map<string, ProtoObject>();
  for (const { port: portNumber, hosts } of layout.http) {
    const routeName = String(portNumber);
    const virtualHosts = hosts
      .map(({ service, port, name, domains, key }) =>
        kept(ctx, memo, key, service, () => prune({ name, domains, routes: httpRoutes(ctx, service, port) })),
      )
      .sort((a, b) => compare(a.name, b.name));
    routes.set(routeName, { name: routeName, virtual_hosts: virtualHosts });
    const name = `0.0.0.0_${portNumber}`;
    listeners.set(
      name,
      prune({
        name,
        address: { socket_address: { address: '0.0.0.0', port_value: portNumber } },
        traffic_direction: 'OUTBOUND',
        filter_chains: [
          {
            filters: [
              {
                name: FILTER.httpConnectionManager,
                typed_config: any(EXT.httpConnectionManager, {
                  stat_prefix: `outbound_${name}`,
                  rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeName },
                  http_filters: httpFilters(ctx),
                }),
              },
            ],
          },
        ],
      }),
    );
  }
  for (const { service, port } of layout.tcp) {
    if (!service.clusterIP) {
      ctx.notes.add(`${virtualHostName(service, port)}: headless Service, no TCP listener`);
      continue;
    }
    if (httpPorts.has(port.port)) {
      ctx.notes.add(
        `${virtualHostName(service, port)}: port ${port.port} is an HTTP listener's; no TCP listener`,
      );
      continue;
    }
    const name = `${service.clusterIP}_${port.port}`;
    const address = service.clusterIP;
    listeners.set(
      name,
      kept(ctx, memo, `tcp\u0000${name}`, service, () =>
        prune({
          name,
          address: { socket_address: { address, port_value: port.port } },
          traffic_direction: 'OUTBOUND',
          filter_chains: [
            { filters: [{ name: FILTER.tcpProxy, typed_config: tcpProxy(ctx, service, port) }] },
          ],
        }),
      ),
    );
  }
  return { listeners: sortMap(listeners), routes: sortMap(routes) };
}

/**
 * Names a proxyless client can dial for a Service port (`xds:///<name>`): `<fqdn>:<port>`,
 * `<name>.<ns>.svc:<port>` and `<name>.<ns>:<port>`. The bare `<name>:<port>` is not served: which
 * Service it means depends on the client's namespace.
 */
export function proxylessListenerNames(service: ServiceModel, port: ServicePortModel): string[] {
  const { name, namespace } = service;
  return [service.hostname, `${name}.${namespace}.svc`, `${name}.${namespace}`].map(
    (h) => `${h}:${port.port}`,
  );
}

/**
 * Proxyless API listeners, one per dialable name of every Service port. The route config is inline
 * (gRPC applies a listener change only when its route config changes); its single virtual host
 * matches any authority, since the listener already names the Service. The inline config's name is
 * `<listener>/<content hash>`: gRPC compares a resource with its cached one field by field over the
 * old value only, so a change that merely adds (a map entry, trailing bytes) can look like no
 * change; a name that changes with the content always differs.
 */
export function proxylessListeners(ctx: TranslateContext, memo?: RouteMemo): Map<string, ProtoObject> {
  // Which ports get listeners, under which names and in which order depends on the Services alone.
  const layout = derived(ctx.serviceList, 'proxyless layout', () => proxylessLayout(ctx.services.values()));
  const perPort = layout.ports.map(({ service, port, key, vhostName, names }) =>
    // The names' listeners share their virtual hosts and filters (pruned once, not per listener): one copy
    // per port in memory.
    kept(ctx, memo, key, service, () => {
      const virtualHosts = prune([
        { name: vhostName, domains: ['*'], routes: httpRoutes(ctx, service, port) },
      ]);
      const hash = shortHash(JSON.stringify(virtualHosts));
      const filters = prune(httpFilters(ctx));
      return names.map((name): ProtoObject => ({
        name,
        api_listener: {
          api_listener: any(EXT.httpConnectionManager, {
            stat_prefix: name,
            route_config: { name: `${name}/${hash}`, virtual_hosts: virtualHosts },
            http_filters: filters,
          }),
        },
      }));
    }),
  );
  const listeners = new Map<string, ProtoObject>();
  for (const [p, n] of layout.order) {
    const l = perPort[p]?.[n];
    if (l) listeners.set(layout.ports[p]?.names[n] ?? '', l);
  }
  return listeners;
}

/** Proxyless listeners as the Services lay them out: each port with its names, and every name in order. */
interface ProxylessLayout {
  ports: Array<{
    service: ServiceModel;
    port: ServicePortModel;
    key: string;
    vhostName: string;
    names: string[];
  }>;
  /** [port index, name index] of every listener, sorted by listener name. */
  order: Array<[number, number]>;
}

function proxylessLayout(services: Iterable<ServiceModel>): ProxylessLayout {
  const ports: ProxylessLayout['ports'] = [];
  for (const service of services)
    for (const port of service.ports) {
      if (portProtocol(port) === 'unsupported') continue;
      const vhostName = virtualHostName(service, port);
      ports.push({
        service,
        port,
        key: `api\u0000${vhostName}`,
        vhostName,
        names: proxylessListenerNames(service, port),
      });
    }
  const order = ports.flatMap(({ names }, p) => names.map((_, n): [number, number] => [p, n]));
  const nameOf = ([p, n]: [number, number]): string => ports[p]?.names[n] ?? '';
  order.sort((a, b) => compare(nameOf(a), nameOf(b)));
  return { ports, order };
}

export function sortMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m.entries()].sort(([a], [b]) => compare(a, b)));
}
