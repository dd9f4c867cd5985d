// Service host names as the mesh spells them: FQDNs, the short forms users write in VirtualServices
// and DestinationRules, and Envoy cluster names (`outbound|<port>|<subset>|<fqdn>`, SPEC §4.1).

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** `<name>.<namespace>.svc.<clusterDomain>`. */
export const serviceFqdn = (
  name: string,
  namespace: string,
  clusterDomain = DEFAULT_CLUSTER_DOMAIN,
): string => `${name}.${namespace}.svc.${clusterDomain}`;

/**
 * The FQDN a host written in an object of `namespace` stands for, or undefined for a wildcard host.
 * Accepted forms: `name` (relative to the object's namespace, as Istio reads it), `name.ns`,
 * `name.ns.svc` (as Kubernetes DNS resolves them) and the FQDN. Any other dotted name is returned
 * as is (lower-cased), so it simply matches no Service.
 */
export function resolveHost(
  host: string,
  namespace: string,
  clusterDomain = DEFAULT_CLUSTER_DOMAIN,
): string | undefined {
  if (host.includes('*')) return undefined;
  const h = host.toLowerCase().replace(/\.$/, '');
  const parts = h.split('.');
  if (h.endsWith(`.svc.${clusterDomain}`)) return h;
  if (parts.length === 1) return serviceFqdn(h, namespace, clusterDomain);
  if (parts.length === 2) return `${h}.svc.${clusterDomain}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.${clusterDomain}`;
  return h;
}

/** Envoy cluster name for a service port and subset ('' = all endpoints): SPEC §4.1. */
export const clusterName = (fqdn: string, port: number, subset = ''): string =>
  `outbound|${port}|${subset}|${fqdn}`;
