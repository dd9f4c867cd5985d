// flagger.app/v1beta1 Canary, MetricTemplate and AlertProvider (SPEC §2.1, §2.2, §3.5) as zod schemas,
// field-compatible with Flagger's CRDs so a Flagger manifest applies unchanged, plus fledge's extensions.
import { z } from 'zod';
import { WEBHOOK_TYPES } from '../../analysis/webhooks.js';
import { PROVIDER_TYPES } from '../../analysis/providers/provider.js';
import { ALERT_PROVIDER_TYPES } from '../../analysis/notify/notifier.js';
import type { CrdDefinition } from '../crd.js';
import { corsPolicy, headers, httpMatchRequest, trafficPolicy } from './networking.js';

/*
 * Compatibility decisions (the CRD YAML is generated from these schemas):
 * - Every field of Flagger's Canary spec is declared with Flagger's name and JSON type, so no field of a
 *   Flagger manifest is pruned; fields fledge does not act on (ingressRef, routeRef, upstreamRef, meshName,
 *   backends, ...) are kept for round-tripping.
 * - Enums are narrowed to what fledge implements, so the API server rejects the rest at admission with the
 *   field path (SPEC: "rejected by the CRD schema where possible"): provider fledge | istio | kubernetes,
 *   targetRef.kind Deployment | DaemonSet, autoscalerRef.kind HorizontalPodAutoscaler, MetricTemplate and
 *   AlertProvider types as analysis/ implements them. A Flagger manifest using one of those values works the
 *   same in Flagger and fledge.
 * - The CRD carries no defaults except Flagger's own (sessionAffinity.maxAge 86400): the stored object stays
 *   what the user applied (no GitOps drift). SPEC's defaults are applied by parseCanary (withDefaults below).
 * - Rules the structural schema cannot express (Flagger's oneOf on analysis, stepWeight ≤ maxWeight, cron
 *   syntax, references) are checked by operator/validate.ts.
 */

export const CANARY_PROVIDERS = ['fledge', 'istio', 'kubernetes'] as const;
export type CanaryProvider = (typeof CANARY_PROVIDERS)[number];

export const CANARY_PHASES = [
  '',
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
  'Terminated',
] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/** Flagger's duration pattern for analysis intervals and webhook timeouts (a prefix match, as Flagger's). */
const flaggerDuration = z.string().regex(/^[0-9]+(m|s)/, 'a duration such as 30s or 1m');
const stringMap = z.record(z.string(), z.string());
const weight = z.number().int().min(0).max(100);
const count = z.number().int().min(0);
const percentReady = z.number().min(0).max(100);

const objectRef = <K extends readonly [string, ...string[]]>(kinds: K) =>
  z.object({ apiVersion: z.string().min(1), kind: z.enum(kinds), name: z.string().min(1) });

const serviceMetadata = z.object({ labels: stringMap.optional(), annotations: stringMap.optional() });

/** A Gateway API parentRef / backendRef as Flagger's CRD declares it (only kept for round-tripping). */
const gatewayRef = z.object({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().min(1),
  namespace: z.string().optional(),
  sectionName: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
});

export const canaryServiceSchema = z.object({
  name: z.string().optional(),
  port: z.number().int().min(1).max(65535),
  portName: z.string().optional(),
  appProtocol: z.string().optional(),
  trafficDistribution: z.enum(['PreferClose', 'PreferSameZone', 'PreferSameNode']).optional(),
  targetPort: z.union([z.number().int(), z.string()]).optional(),
  portDiscovery: z.boolean().optional(),
  headless: z.boolean().optional(),
  timeout: z.string().optional(),
  backendTimeout: z.string().optional(),
  meshName: z.string().optional(),
  backends: z.array(z.string()).optional(),
  hosts: z.array(z.string()).optional(),
  delegation: z.boolean().optional(),
  match: z.array(httpMatchRequest).optional(),
  retries: z
    .object({
      attempts: z.number().int().min(0).optional(),
      perTryTimeout: z.string().optional(),
      retryOn: z.string().optional(),
    })
    .optional(),
  rewrite: z
    .object({ uri: z.string().optional(), authority: z.string().optional(), type: z.string().optional() })
    .optional(),
  mirror: z.array(z.object({ backendRef: gatewayRef })).optional(),
  headers: headers.optional(),
  gateways: z.array(z.string()).optional(),
  gatewayRefs: z.array(gatewayRef).max(32).optional(),
  corsPolicy: corsPolicy.optional(),
  trafficPolicy: trafficPolicy.optional(),
  apex: serviceMetadata.optional(),
  primary: serviceMetadata.optional(),
  canary: serviceMetadata.optional(),
  unmanagedMetadata: z
    .object({ annotations: z.array(z.string()).optional(), labels: z.array(z.string()).optional() })
    .optional(),
});

const abStringMatch = z.looseObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  regex: z.string().optional(),
});

export const canaryMetricSchema = z.object({
  name: z.string().min(1),
  interval: flaggerDuration.optional(),
  /** Deprecated by Flagger in favour of thresholdRange.max; still honoured. */
  threshold: z.number().optional(),
  thresholdRange: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  query: z.string().optional(),
  templateRef: z.object({ name: z.string().min(1), namespace: z.string().optional() }).optional(),
  templateVariables: stringMap.optional(),
  /** fledge extension: what an empty result or NaN means. */
  onNoData: z.enum(['fail', 'hold', 'pass']).optional(),
  /** fledge extension: evaluated and reported, never gates. */
  dryRun: z.boolean().optional(),
});

export const canaryWebhookSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['', ...WEBHOOK_TYPES]).optional(),
  muteAlert: z.boolean().optional(),
  url: z.string().min(1),
  timeout: flaggerDuration.optional(),
  retries: count.optional(),
  disableTLS: z.boolean().optional(),
  metadata: stringMap.optional(),
});

export const canaryAlertSchema = z.object({
  name: z.string().min(1),
  severity: z.enum(['', 'info', 'warn', 'error']).optional(),
  providerRef: z.object({ name: z.string().min(1), namespace: z.string().optional() }),
});

/** fledge extension: a run may start or advance only inside one of these windows. */
export const analysisWindowSchema = z.object({
  /** Cron syntax of the `cron` package (5 or 6 fields): when a window opens. */
  cron: z.string().min(1),
  /** Go duration: how long a window stays open. */
  duration: z.string().min(1),
  /** IANA time zone of the cron expression; UTC when unset. */
  timezone: z.string().optional(),
});

export const canaryAnalysisSchema = z.object({
  interval: flaggerDuration,
  iterations: count.optional(),
  threshold: count,
  maxWeight: weight.optional(),
  stepWeight: weight.optional(),
  stepWeights: z.array(weight).optional(),
  stepWeightPromotion: weight.optional(),
  mirror: z.boolean().optional(),
  mirrorWeight: weight.optional(),
  primaryReadyThreshold: percentReady.optional(),
  canaryReadyThreshold: percentReady.optional(),
  match: z
    .array(
      z.object({
        headers: z.record(z.string(), abStringMatch).optional(),
        queryParams: z.record(z.string(), abStringMatch).optional(),
        sourceLabels: stringMap.optional(),
      }),
    )
    .optional(),
  metrics: z.array(canaryMetricSchema).optional(),
  alerts: z.array(canaryAlertSchema).optional(),
  webhooks: z.array(canaryWebhookSchema).optional(),
  sessionAffinity: z
    .object({
      cookieName: z.string().min(1),
      primaryCookieName: z.string().optional(),
      domain: z.string().optional(),
      httpOnly: z.boolean().optional(),
      maxAge: z.number().int().min(0).default(86400),
      partitioned: z.boolean().optional(),
      path: z.string().optional(),
      sameSite: z.enum(['Strict', 'Lax', 'None']).optional(),
      secure: z.boolean().optional(),
    })
    .optional(),
  /** fledge extension. */
  windows: z.array(analysisWindowSchema).optional(),
});

const providerError = (iss: { input?: unknown }): string =>
  `unknown provider ${JSON.stringify(iss.input)}: expected one of ${CANARY_PROVIDERS.join(', ')}`;

export const canarySpecSchema = z.object({
  provider: z.enum(CANARY_PROVIDERS, { error: providerError }).optional(),
  metricsServer: z.string().optional(),
  progressDeadlineSeconds: z.number().int().min(1).optional(),
  targetRef: objectRef(['Deployment', 'DaemonSet'] as const),
  autoscalerRef: objectRef(['HorizontalPodAutoscaler'] as const)
    .extend({
      primaryScalerReplicas: z
        .object({
          minReplicas: z.number().int().min(1).optional(),
          maxReplicas: z.number().int().min(1).optional(),
        })
        .optional(),
    })
    .optional(),
  ingressRef: objectRef(['Ingress'] as const).optional(),
  routeRef: objectRef(['ApisixRoute'] as const).optional(),
  upstreamRef: objectRef(['Upstream'] as const)
    .extend({ namespace: z.string().optional() })
    .optional(),
  service: canaryServiceSchema,
  skipAnalysis: z.boolean().optional(),
  revertOnDeletion: z.boolean().optional(),
  suspend: z.boolean().optional(),
  analysis: canaryAnalysisSchema,
});

export const canaryConditionSchema = z.object({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  lastUpdateTime: z.string().optional(),
});

export const canaryStatusSchema = z.object({
  phase: z.enum(CANARY_PHASES).optional(),
  failedChecks: count.optional(),
  canaryWeight: weight.optional(),
  iterations: count.optional(),
  trackedConfigs: stringMap.optional(),
  lastAppliedSpec: z.string().optional(),
  lastPromotedSpec: z.string().optional(),
  lastTrackedRevision: z.string().optional(),
  /** RFC 3339. */
  lastTransitionTime: z.string().optional(),
  sessionAffinityCookie: z.string().optional(),
  primarySessionAffinityCookie: z.string().optional(),
  previousSessionAffinityCookie: z.string().optional(),
  conditions: z.array(canaryConditionSchema).optional(),
  observedGeneration: z.number().int().min(0).optional(),
});

export const metricTemplateSpecSchema = z.object({
  provider: z.object({
    type: z.enum(PROVIDER_TYPES),
    address: z.string().optional(),
    headers: z.record(z.string(), z.array(z.string())).optional(),
    secretRef: z.object({ name: z.string().min(1) }).optional(),
    region: z.string().optional(),
    insecureSkipVerify: z.boolean().optional(),
  }),
  query: z.string().min(1),
});

export const alertProviderSpecSchema = z.object({
  type: z.enum(ALERT_PROVIDER_TYPES),
  channel: z.string().optional(),
  username: z.string().optional(),
  address: z.string().optional(),
  proxy: z.string().optional(),
  secretRef: z.object({ name: z.string().min(1) }).optional(),
});

/** The object metadata fledge reads; everything else the API server sets is kept. */
export const objectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).default('default'),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

export const canaryObjectSchema = z.object({
  apiVersion: z.literal('flagger.app/v1beta1'),
  kind: z.literal('Canary'),
  metadata: objectMetaSchema,
  spec: canarySpecSchema,
  status: canaryStatusSchema.optional(),
});

// ---- Types. The *Input types are the object as stored (no defaults); the others have SPEC §2.1's defaults.

export type CanarySpecInput = z.infer<typeof canarySpecSchema>;
export type CanaryServiceInput = z.infer<typeof canaryServiceSchema>;
export type CanaryAnalysisInput = z.infer<typeof canaryAnalysisSchema>;
export type CanaryMetricInput = z.infer<typeof canaryMetricSchema>;
export type CanaryWebhookInput = z.infer<typeof canaryWebhookSchema>;
export type CanaryAlert = z.infer<typeof canaryAlertSchema>;
export type AnalysisWindow = z.infer<typeof analysisWindowSchema>;
export type CanaryCondition = z.infer<typeof canaryConditionSchema>;
export type CanaryStatus = z.infer<typeof canaryStatusSchema>;
export type MetricTemplateSpec = z.infer<typeof metricTemplateSpecSchema>;
export type AlertProviderSpec = z.infer<typeof alertProviderSpecSchema>;

export type CanaryMetric = Omit<CanaryMetricInput, 'interval' | 'onNoData' | 'dryRun'> & {
  /** [1m] */
  interval: string;
  /** [fail] */
  onNoData: 'fail' | 'hold' | 'pass';
  /** [false] */
  dryRun: boolean;
};

export type CanaryWebhook = Omit<CanaryWebhookInput, 'type' | 'timeout'> & {
  /** [rollout] (Flagger's meaning of an empty type). */
  type: (typeof WEBHOOK_TYPES)[number];
  /** [10s] */
  timeout: string;
};

export type CanaryAnalysis = Omit<
  CanaryAnalysisInput,
  | 'maxWeight'
  | 'primaryReadyThreshold'
  | 'canaryReadyThreshold'
  | 'metrics'
  | 'webhooks'
  | 'alerts'
  | 'match'
  | 'windows'
  | 'mirror'
> & {
  /** [100] */
  maxWeight: number;
  /** [100] */
  primaryReadyThreshold: number;
  /** [100] */
  canaryReadyThreshold: number;
  /** [false] */
  mirror: boolean;
  metrics: CanaryMetric[];
  webhooks: CanaryWebhook[];
  alerts: CanaryAlert[];
  match: NonNullable<CanaryAnalysisInput['match']>;
  windows: AnalysisWindow[];
};

export type CanaryService = Omit<CanaryServiceInput, 'name' | 'portName' | 'targetPort' | 'gateways'> & {
  /** [targetRef.name] */
  name: string;
  /** [http] */
  portName: string;
  /** [port] */
  targetPort: number | string;
  /** [mesh] */
  gateways: string[];
};

export type CanarySpec = Omit<
  CanarySpecInput,
  | 'provider'
  | 'progressDeadlineSeconds'
  | 'skipAnalysis'
  | 'revertOnDeletion'
  | 'suspend'
  | 'service'
  | 'analysis'
> & {
  /** [fledge] */
  provider: CanaryProvider;
  /** [600] */
  progressDeadlineSeconds: number;
  skipAnalysis: boolean;
  revertOnDeletion: boolean;
  suspend: boolean;
  service: CanaryService;
  analysis: CanaryAnalysis;
};

/** A Canary as the operator works with it: SPEC §2.1 defaults applied, metadata.namespace set. */
export interface Canary {
  apiVersion: 'flagger.app/v1beta1';
  kind: 'Canary';
  metadata: ObjectMeta;
  spec: CanarySpec;
  status?: CanaryStatus;
}

export interface MetricTemplate {
  apiVersion: 'flagger.app/v1beta1';
  kind: 'MetricTemplate';
  metadata: ObjectMeta;
  spec: MetricTemplateSpec;
}

export interface AlertProvider {
  apiVersion: 'flagger.app/v1beta1';
  kind: 'AlertProvider';
  metadata: ObjectMeta;
  spec: AlertProviderSpec;
}

export const DEFAULT_ANALYSIS_INTERVAL = '60s';
export const DEFAULT_METRIC_INTERVAL = '1m';
export const DEFAULT_WEBHOOK_TIMEOUT = '10s';
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** SPEC §2.1's defaults; pure. Fields the user set are never changed. */
export function withDefaults(spec: CanarySpecInput): CanarySpec {
  const a = spec.analysis;
  return {
    ...spec,
    provider: spec.provider ?? 'fledge',
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
    skipAnalysis: spec.skipAnalysis ?? false,
    revertOnDeletion: spec.revertOnDeletion ?? false,
    suspend: spec.suspend ?? false,
    service: {
      ...spec.service,
      name: spec.service.name ?? spec.targetRef.name,
      portName: spec.service.portName ?? 'http',
      targetPort: spec.service.targetPort ?? spec.service.port,
      gateways: spec.service.gateways ?? ['mesh'],
    },
    analysis: {
      ...a,
      maxWeight: a.maxWeight ?? 100,
      primaryReadyThreshold: a.primaryReadyThreshold ?? 100,
      canaryReadyThreshold: a.canaryReadyThreshold ?? 100,
      mirror: a.mirror ?? false,
      metrics: (a.metrics ?? []).map((m) => ({
        ...m,
        interval: m.interval ?? DEFAULT_METRIC_INTERVAL,
        onNoData: m.onNoData ?? 'fail',
        dryRun: m.dryRun ?? false,
      })),
      webhooks: (a.webhooks ?? []).map((w) => ({
        ...w,
        type: w.type === undefined || w.type === '' ? 'rollout' : w.type,
        timeout: w.timeout ?? DEFAULT_WEBHOOK_TIMEOUT,
      })),
      alerts: a.alerts ?? [],
      match: a.match ?? [],
      windows: a.windows ?? [],
    },
  };
}

const version = 'v1beta1';

export const canaryCrd: CrdDefinition = {
  group: 'flagger.app',
  kind: 'Canary',
  plural: 'canaries',
  singular: 'canary',
  categories: ['all'],
  scope: 'Namespaced',
  versions: [
    {
      name: version,
      served: true,
      storage: true,
      spec: canarySpecSchema,
      status: canaryStatusSchema,
      statusSubresource: true,
      // Flagger's columns (its Suspended column is left out: SPEC §3.5 lists the wide columns).
      printerColumns: [
        { name: 'Status', type: 'string', jsonPath: '.status.phase' },
        { name: 'Weight', type: 'string', jsonPath: '.status.canaryWeight' },
        { name: 'FailedChecks', type: 'string', jsonPath: '.status.failedChecks', priority: 1 },
        { name: 'Interval', type: 'string', jsonPath: '.spec.analysis.interval', priority: 1 },
        { name: 'Mirror', type: 'boolean', jsonPath: '.spec.analysis.mirror', priority: 1 },
        { name: 'StepWeight', type: 'string', jsonPath: '.spec.analysis.stepWeight', priority: 1 },
        { name: 'StepWeights', type: 'string', jsonPath: '.spec.analysis.stepWeights', priority: 1 },
        { name: 'MaxWeight', type: 'string', jsonPath: '.spec.analysis.maxWeight', priority: 1 },
        { name: 'LastTransitionTime', type: 'string', jsonPath: '.status.lastTransitionTime' },
      ],
    },
  ],
};

export const metricTemplateCrd: CrdDefinition = {
  group: 'flagger.app',
  kind: 'MetricTemplate',
  plural: 'metrictemplates',
  singular: 'metrictemplate',
  categories: ['all'],
  scope: 'Namespaced',
  versions: [
    {
      name: version,
      served: true,
      storage: true,
      spec: metricTemplateSpecSchema,
      statusSubresource: true,
      printerColumns: [{ name: 'Provider', type: 'string', jsonPath: '.spec.provider.type' }],
    },
  ],
};

export const alertProviderCrd: CrdDefinition = {
  group: 'flagger.app',
  kind: 'AlertProvider',
  plural: 'alertproviders',
  singular: 'alertprovider',
  categories: ['all'],
  scope: 'Namespaced',
  versions: [
    {
      name: version,
      served: true,
      storage: true,
      spec: alertProviderSpecSchema,
      statusSubresource: true,
      printerColumns: [{ name: 'Type', type: 'string', jsonPath: '.spec.type' }],
    },
  ],
};

export const flaggerCrds: CrdDefinition[] = [canaryCrd, metricTemplateCrd, alertProviderCrd];
