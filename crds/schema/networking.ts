// networking.istio.io VirtualService, DestinationRule, Gateway and ServiceEntry: the subset the
// mesh serves (SPEC §2.3), as zod schemas. Objects are loose: fields outside the subset are kept
// by the API server so the mesh can name them in a condition instead of dropping them silently.
import { z } from 'zod';
import type { CrdDefinition } from '../crd.js';

/** Durations as Istio writes them: "1s", "0.5s", "100ms", "1m". */
const duration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/, 'a duration such as 1s or 100ms');
const percent = z.looseObject({ value: z.number().min(0).max(100) });

export const stringMatch = z.looseObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});

const portSelector = z.looseObject({ number: z.number().int().min(1).max(65535) });

export const destination = z.looseObject({
  host: z.string().min(1),
  subset: z.string().optional(),
  port: portSelector.optional(),
});

const headerOps = z.looseObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export const headers = z.looseObject({ request: headerOps.optional(), response: headerOps.optional() });

export const httpMatchRequest = z.looseObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: z.record(z.string(), stringMatch).optional(),
  withoutHeaders: z.record(z.string(), stringMatch).optional(),
  queryParams: z.record(z.string(), stringMatch).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  sourceLabels: z.record(z.string(), z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  ignoreUriCase: z.boolean().optional(),
});

export const httpRouteDestination = z.looseObject({
  destination,
  weight: z.number().int().min(0).optional(),
  headers: headers.optional(),
});

export const httpRetry = z.looseObject({
  attempts: z.number().int().min(0),
  perTryTimeout: duration.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
});

export const httpFault = z.looseObject({
  delay: z.looseObject({ fixedDelay: duration, percentage: percent.optional() }).optional(),
  abort: z
    .looseObject({
      httpStatus: z.number().int().min(200).max(599).optional(),
      grpcStatus: z.string().optional(),
      percentage: percent.optional(),
    })
    .optional(),
});

export const corsPolicy = z.looseObject({
  allowOrigins: z.array(stringMatch).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: duration.optional(),
  allowCredentials: z.boolean().optional(),
});

export const httpRoute = z.looseObject({
  name: z.string().optional(),
  match: z.array(httpMatchRequest).optional(),
  route: z.array(httpRouteDestination).optional(),
  redirect: z
    .looseObject({
      uri: z.string().optional(),
      authority: z.string().optional(),
      redirectCode: z.number().int().optional(),
    })
    .optional(),
  rewrite: z.looseObject({ uri: z.string().optional(), authority: z.string().optional() }).optional(),
  timeout: duration.optional(),
  retries: httpRetry.optional(),
  fault: httpFault.optional(),
  mirror: destination.optional(),
  mirrorPercentage: percent.optional(),
  mirrors: z.array(z.looseObject({ destination, percentage: percent.optional() })).optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headers.optional(),
});

export const tcpRoute = z.looseObject({
  match: z
    .array(
      z.looseObject({
        port: z.number().int().min(1).max(65535).optional(),
        destinationSubnets: z.array(z.string()).optional(),
        sourceLabels: z.record(z.string(), z.string()).optional(),
        gateways: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  route: z.array(z.looseObject({ destination, weight: z.number().int().min(0).optional() })).optional(),
});

export const virtualServiceSpec = z.looseObject({
  hosts: z.array(z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  exportTo: z.array(z.string()).optional(),
  http: z.array(httpRoute).optional(),
  tcp: z.array(tcpRoute).optional(),
});

const simpleLb = z.enum([
  'UNSPECIFIED',
  'ROUND_ROBIN',
  'LEAST_REQUEST',
  'LEAST_CONN',
  'RANDOM',
  'PASSTHROUGH',
]);

export const loadBalancerSettings = z.looseObject({
  simple: simpleLb.optional(),
  consistentHash: z
    .looseObject({
      httpHeaderName: z.string().optional(),
      httpCookie: z
        .looseObject({ name: z.string(), path: z.string().optional(), ttl: duration.optional() })
        .optional(),
      useSourceIp: z.boolean().optional(),
      httpQueryParameterName: z.string().optional(),
      minimumRingSize: z.number().int().min(1).optional(),
      ringHash: z.looseObject({ minimumRingSize: z.number().int().min(1).optional() }).optional(),
    })
    .optional(),
});

export const connectionPoolSettings = z.looseObject({
  tcp: z
    .looseObject({ maxConnections: z.number().int().min(0).optional(), connectTimeout: duration.optional() })
    .optional(),
  http: z
    .looseObject({
      http1MaxPendingRequests: z.number().int().min(0).optional(),
      http2MaxRequests: z.number().int().min(0).optional(),
      maxRequestsPerConnection: z.number().int().min(0).optional(),
      maxRetries: z.number().int().min(0).optional(),
      idleTimeout: duration.optional(),
    })
    .optional(),
});

export const outlierDetection = z.looseObject({
  consecutive5xxErrors: z.number().int().min(0).optional(),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  interval: duration.optional(),
  baseEjectionTime: duration.optional(),
  maxEjectionPercent: z.number().int().min(0).max(100).optional(),
  minHealthPercent: z.number().int().min(0).max(100).optional(),
});

const tlsSettings = z.looseObject({
  mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
  credentialName: z.string().optional(),
  sni: z.string().optional(),
});

const trafficPolicyCore = {
  loadBalancer: loadBalancerSettings.optional(),
  connectionPool: connectionPoolSettings.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: tlsSettings.optional(),
};

export const trafficPolicy = z.looseObject({
  ...trafficPolicyCore,
  portLevelSettings: z
    .array(z.looseObject({ port: portSelector.optional(), ...trafficPolicyCore }))
    .optional(),
});

export const destinationRuleSpec = z.looseObject({
  host: z.string().min(1),
  trafficPolicy: trafficPolicy.optional(),
  subsets: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        labels: z.record(z.string(), z.string()).optional(),
        trafficPolicy: trafficPolicy.optional(),
      }),
    )
    .optional(),
  exportTo: z.array(z.string()).optional(),
});

export const gatewaySpec = z.looseObject({
  selector: z.record(z.string(), z.string()).optional(),
  servers: z
    .array(
      z.looseObject({
        port: z.looseObject({
          number: z.number().int().min(1).max(65535),
          name: z.string().optional(),
          protocol: z.string(),
        }),
        hosts: z.array(z.string()),
        name: z.string().optional(),
        tls: z
          .looseObject({
            mode: z
              .enum([
                'PASSTHROUGH',
                'SIMPLE',
                'MUTUAL',
                'AUTO_PASSTHROUGH',
                'ISTIO_MUTUAL',
                'OPTIONAL_MUTUAL',
              ])
              .optional(),
            credentialName: z.string().optional(),
            httpsRedirect: z.boolean().optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});

export const serviceEntrySpec = z.looseObject({
  hosts: z.array(z.string()),
  addresses: z.array(z.string()).optional(),
  ports: z
    .array(
      z.looseObject({
        number: z.number().int().min(1).max(65535),
        name: z.string(),
        protocol: z.string().optional(),
        targetPort: z.number().int().optional(),
      }),
    )
    .optional(),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
  endpoints: z
    .array(
      z.looseObject({
        address: z.string().optional(),
        ports: z.record(z.string(), z.number().int()).optional(),
        labels: z.record(z.string(), z.string()).optional(),
        network: z.string().optional(),
        locality: z.string().optional(),
        weight: z.number().int().min(0).optional(),
      }),
    )
    .optional(),
  exportTo: z.array(z.string()).optional(),
});

/** Status as the mesh writes it: conditions naming problems (e.g. unsupported fields). */
export const networkingStatus = z.looseObject({
  observedGeneration: z.number().int().optional(),
  /** Written by the fledge mesh on a refused object: the version it keeps serving instead (survives restarts). */
  lastGood: z.looseObject({ generation: z.number().int(), spec: z.looseObject({}) }).optional(),
  conditions: z
    .array(
      z.looseObject({
        type: z.string(),
        status: z.string(),
        reason: z.string().optional(),
        message: z.string().optional(),
        lastTransitionTime: z.string().optional(),
      }),
    )
    .optional(),
});

export type VirtualServiceSpec = z.infer<typeof virtualServiceSpec>;
export type DestinationRuleSpec = z.infer<typeof destinationRuleSpec>;
export type GatewaySpec = z.infer<typeof gatewaySpec>;
export type ServiceEntrySpec = z.infer<typeof serviceEntrySpec>;

function networkingCrd(
  kind: string,
  plural: string,
  shortNames: string[],
  spec: z.ZodType,
  columns: CrdDefinition['versions'][number]['printerColumns'],
): CrdDefinition {
  return {
    group: 'networking.istio.io',
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames,
    categories: ['istio-io', 'networking-istio-io'],
    scope: 'Namespaced',
    versions: ['v1', 'v1beta1', 'v1alpha3'].map((name) => ({
      name,
      served: true,
      storage: name === 'v1',
      spec,
      status: networkingStatus,
      statusSubresource: true,
      ...(columns ? { printerColumns: columns } : {}),
    })),
  };
}

export const networkingCrds: CrdDefinition[] = [
  networkingCrd('VirtualService', 'virtualservices', ['vs'], virtualServiceSpec, [
    {
      name: 'Gateways',
      type: 'string',
      jsonPath: '.spec.gateways',
      description: 'The names of gateways and sidecars that should apply these routes',
    },
    {
      name: 'Hosts',
      type: 'string',
      jsonPath: '.spec.hosts',
      description: 'The destination hosts to which traffic is being sent',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]),
  networkingCrd('DestinationRule', 'destinationrules', ['dr'], destinationRuleSpec, [
    {
      name: 'Host',
      type: 'string',
      jsonPath: '.spec.host',
      description: 'The name of a service from the service registry',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]),
  networkingCrd('Gateway', 'gateways', ['gw'], gatewaySpec, undefined),
  networkingCrd('ServiceEntry', 'serviceentries', ['se'], serviceEntrySpec, [
    {
      name: 'Hosts',
      type: 'string',
      jsonPath: '.spec.hosts',
      description: 'The hosts associated with the ServiceEntry',
    },
    {
      name: 'Location',
      type: 'string',
      jsonPath: '.spec.location',
      description: 'Whether the service is external to the mesh or part of the mesh',
    },
    {
      name: 'Resolution',
      type: 'string',
      jsonPath: '.spec.resolution',
      description: 'Service resolution mode for the hosts',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]),
];
