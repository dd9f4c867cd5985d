// The Canary's workloads (SPEC §3.1): the Workload interface reconcile uses, pure builders of the primary
// Deployment and the apex/primary/canary Services, and DeploymentWorkload (with tracked configs and the HPA).
import { createHash } from 'node:crypto';
import type {
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1LabelSelector,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodTemplateSpec,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';
import type { Canary } from '../crds/schema/flagger.js';
import type { TrackedConfigs } from './configs.js';
import { ConfigTracker, NO_CONFIGS, configsDigest, rewriteConfigRefs, trackedKeys } from './configs.js';
import { PrimaryAutoscaler, buildPrimaryHpa, primaryHpaMin } from './hpa.js';
import type { WorkloadObservation } from './scheduler/types.js';
import type { Problem } from './validate.js';
import type { KubeResource, ObjectCache, Outcome } from './k8s/client.js';
import { canonicalJson, deployments, failureProblem, services } from './k8s/client.js';

/** Annotation on the primary Deployment: the target revision (targetRevision) its template runs. */
export const REVISION_ANNOTATION = 'fledge.dev/revision';

/**
 * Annotation on the primary's pod template when configs are tracked: configsDigest of their hashes, so a
 * promotion that only changed a config still rolls the primary's pods onto the new `-primary` copies.
 */
export const CONFIGS_ANNOTATION = 'fledge.dev/configs';

/** What the Deployment and DaemonSet builders read of a target: its selector and pod template. */
export interface PodController extends KubernetesObject {
  metadata?: V1ObjectMeta;
  spec?: { selector: V1LabelSelector; template: V1PodTemplateSpec };
}

/** The target's selector label is the first of these its spec.selector.matchLabels carries (Flagger's order). */
export const SELECTOR_LABEL_KEYS = ['app', 'name', 'app.kubernetes.io/name'] as const;

export interface WorkloadNames {
  /** The target Deployment (spec.targetRef.name). */
  target: string;
  /** `<target>-primary`. */
  primary: string;
  /** spec.service.name: the apex Service, selecting primary pods. */
  apexService: string;
  /** `<service>-primary`. */
  primaryService: string;
  /** `<service>-canary`: selects the target's pods. */
  canaryService: string;
}

export function workloadNames(canary: Canary): WorkloadNames {
  const target = canary.spec.targetRef.name;
  const service = canary.spec.service.name;
  return {
    target,
    primary: `${target}-primary`,
    apexService: service,
    primaryService: `${service}-primary`,
    canaryService: `${service}-canary`,
  };
}

/** The label that tells the target's pods apart; the primary's pods carry `<value>-primary` instead. */
export interface SelectorLabel {
  key: string;
  value: string;
}

const TARGET_FIELD = 'spec.targetRef.name';

export function selectorLabel(target: PodController): Outcome<SelectorLabel> {
  const labels = target.spec?.selector.matchLabels ?? {};
  for (const key of SELECTOR_LABEL_KEYS) {
    const value = labels[key];
    if (value !== undefined && value !== '') return { ok: true, value: { key, value } };
  }
  const has = Object.keys(labels);
  return {
    ok: false,
    field: TARGET_FIELD,
    message:
      `${target.kind ?? 'Deployment'} ${target.metadata?.name ?? ''}: spec.selector.matchLabels must carry one of ` +
      `${SELECTOR_LABEL_KEYS.join(', ')} (it has ${has.length > 0 ? has.join(', ') : 'none'})`,
  };
}

/** `labels` with the selector label set to the primary's value; every other label is kept. */
export function primaryLabels(
  labels: Record<string, string> | undefined,
  sel: SelectorLabel,
): Record<string, string> {
  return { ...labels, [sel.key]: `${sel.value}-primary` };
}

/** The controller reference every object fledge creates for a Canary carries (garbage-collected with it). */
export function ownerReference(canary: Canary): V1OwnerReference {
  const uid = canary.metadata.uid;
  // A Canary handed to the writers was read from the API server; without a uid it was built by mistake.
  if (uid === undefined || uid === '') throw new Error(`Canary ${canary.metadata.name} has no metadata.uid`);
  return {
    apiVersion: canary.apiVersion,
    kind: canary.kind,
    name: canary.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The target's pod template for the primary: selector label rewritten, references to tracked configs renamed
 * to their `-primary` copies (with CONFIGS_ANNOTATION when there are any), everything else kept.
 */
export function primaryTemplate(
  target: PodController,
  sel: SelectorLabel,
  configs: TrackedConfigs = NO_CONFIGS,
): V1PodTemplateSpec {
  const template = structuredClone(target.spec?.template ?? {});
  const digest = configsDigest(configs.hashes);
  const annotations = template.metadata?.annotations;
  return {
    ...template,
    metadata: {
      ...template.metadata,
      labels: primaryLabels(template.metadata?.labels, sel),
      ...(digest !== '' ? { annotations: { ...annotations, [CONFIGS_ANNOTATION]: digest } } : {}),
    },
    ...(template.spec && digest !== ''
      ? { spec: rewriteConfigRefs(template.spec, trackedKeys(configs)) }
      : {}),
  };
}

/** Replicas for the primary: the target's when it runs any (≥ 1), else the primary's own (≥ 1). */
export function primaryReplicas(target: V1Deployment, primary: V1Deployment | null): number {
  const fromTarget = target.spec?.replicas ?? 1;
  return Math.max(1, fromTarget > 0 ? fromTarget : (primary?.spec?.replicas ?? 1));
}

/** Rollout settings the primary takes over from the target with its template. */
function rolloutSettings(target: V1Deployment): Partial<NonNullable<V1Deployment['spec']>> {
  const s = target.spec;
  return {
    ...(s?.strategy ? { strategy: structuredClone(s.strategy) } : {}),
    ...(s?.minReadySeconds !== undefined ? { minReadySeconds: s.minReadySeconds } : {}),
    ...(s?.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: s.revisionHistoryLimit } : {}),
    ...(s?.progressDeadlineSeconds !== undefined
      ? { progressDeadlineSeconds: s.progressDeadlineSeconds }
      : {}),
  };
}

/** Metadata of a new `<target>-primary` running `revision`: the target's labels (selector label rewritten). */
export function primaryMetadata(
  canary: Canary,
  target: PodController,
  sel: SelectorLabel,
  revision: string,
): V1ObjectMeta {
  return {
    name: workloadNames(canary).primary,
    namespace: canary.metadata.namespace,
    labels: primaryLabels(target.metadata?.labels, sel),
    annotations: { [REVISION_ANNOTATION]: revision },
    ownerReferences: [ownerReference(canary)],
  };
}

/** The primary's metadata after promoting `revision` (only the revision annotation changes). */
export function promotedMetadata(primary: PodController, revision: string): V1ObjectMeta {
  return {
    ...primary.metadata,
    annotations: { ...primary.metadata?.annotations, [REVISION_ANNOTATION]: revision },
  };
}

/** The primary's (immutable) selector, or the one bootstrap would have given it. */
export function primarySelector(
  primary: PodController,
  target: PodController,
  sel: SelectorLabel,
): V1LabelSelector {
  return primary.spec?.selector ?? { matchLabels: primaryLabels(target.spec?.selector.matchLabels, sel) };
}

/**
 * A new `<target>-primary` Deployment running `revision` of the target, owned by the Canary; `replicas`
 * overrides primaryReplicas (an HPA's min).
 */
export function buildPrimaryDeployment(
  canary: Canary,
  target: V1Deployment,
  sel: SelectorLabel,
  revision: string,
  configs: TrackedConfigs = NO_CONFIGS,
  replicas?: number,
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: primaryMetadata(canary, target, sel, revision),
    spec: {
      ...rolloutSettings(target),
      replicas: replicas ?? primaryReplicas(target, null),
      selector: { matchLabels: primaryLabels(target.spec?.selector.matchLabels, sel) },
      template: primaryTemplate(target, sel, configs),
    },
  };
}

/**
 * The existing primary after promoting `revision`: the target's template (labels and tracked config references
 * rewritten) and rollout settings, replicas from the target when it runs any (never with `autoscaled`: the
 * primary's HPA owns them), the revision annotation. Selector and everything else of the primary are kept
 * (the selector is immutable).
 */
export function promotedPrimary(
  primary: V1Deployment,
  target: V1Deployment,
  sel: SelectorLabel,
  revision: string,
  configs: TrackedConfigs = NO_CONFIGS,
  autoscaled = false,
): V1Deployment {
  const fromTarget = autoscaled ? 0 : (target.spec?.replicas ?? 0);
  return {
    ...primary,
    metadata: promotedMetadata(primary, revision),
    spec: {
      ...primary.spec,
      ...rolloutSettings(target),
      selector: primarySelector(primary, target, sel),
      replicas: fromTarget > 0 ? fromTarget : primary.spec?.replicas,
      template: primaryTemplate(target, sel, configs),
    },
  };
}

/**
 * The revision of the target: a content hash (16 hex digits) of its stored pod template and of the tracked
 * configs' hashes. Keys are sorted and null fields dropped, so the same template read back hashes the same.
 */
export function targetRevision(target: PodController, configHashes: Record<string, string> = {}): string {
  const input = canonicalJson({ template: target.spec?.template ?? {}, configs: configHashes });
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Replica counts from a Deployment's status; a spec change the controller has not yet observed counts 0 updated. */
export function workloadObservation(d: V1Deployment): WorkloadObservation {
  const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  return {
    desiredReplicas: d.spec?.replicas ?? 1,
    updatedReplicas: observed ? (d.status?.updatedReplicas ?? 0) : 0,
    readyReplicas: d.status?.readyReplicas ?? 0,
    replicas: d.status?.replicas ?? 0,
  };
}

/** The apex, primary and canary Services (in that order), owned by the Canary. */
export function buildServices(canary: Canary, sel: SelectorLabel): V1Service[] {
  const s = canary.spec.service;
  const names = workloadNames(canary);
  const port: V1ServicePort = {
    name: s.portName,
    port: s.port,
    targetPort: s.targetPort,
    protocol: 'TCP',
    ...(s.appProtocol !== undefined ? { appProtocol: s.appProtocol } : {}),
  };
  const primarySelector = { [sel.key]: `${sel.value}-primary` };
  const service = (
    name: string,
    selector: Record<string, string>,
    meta: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined,
  ): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: canary.metadata.namespace,
      ...(meta?.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta?.annotations ? { annotations: { ...meta.annotations } } : {}),
      ownerReferences: [ownerReference(canary)],
    },
    spec: { type: 'ClusterIP', selector, ports: [{ ...port }] },
  });
  return [
    service(names.apexService, primarySelector, s.apex),
    service(names.primaryService, primarySelector, s.primary),
    service(names.canaryService, { [sel.key]: sel.value }, s.canary),
  ];
}

const portKey = (p: V1ServicePort): string =>
  canonicalJson({
    name: p.name,
    port: p.port,
    targetPort: p.targetPort,
    protocol: p.protocol ?? 'TCP',
    appProtocol: p.appProtocol,
  });

/**
 * The existing Service updated in place to `desired`: ports, selector, and desired labels/annotations merged over
 * its own. clusterIP, type, owners and node ports are kept. Null when nothing differs.
 */
export function updatedService(existing: V1Service, desired: V1Service): V1Service | null {
  const labels = { ...existing.metadata?.labels, ...desired.metadata?.labels };
  const annotations = { ...existing.metadata?.annotations, ...desired.metadata?.annotations };
  const ports = (desired.spec?.ports ?? []).map((p) => {
    const nodePort = existing.spec?.ports?.find((e) => e.name === p.name)?.nodePort;
    return nodePort !== undefined ? { ...p, nodePort } : p;
  });
  const same =
    canonicalJson((existing.spec?.ports ?? []).map(portKey)) === canonicalJson(ports.map(portKey)) &&
    canonicalJson(existing.spec?.selector ?? {}) === canonicalJson(desired.spec?.selector ?? {}) &&
    canonicalJson(existing.metadata?.labels ?? {}) === canonicalJson(labels) &&
    canonicalJson(existing.metadata?.annotations ?? {}) === canonicalJson(annotations);
  if (same) return null;
  return {
    ...existing,
    metadata: { ...existing.metadata, labels, annotations },
    spec: { ...existing.spec, ports, selector: { ...desired.spec?.selector } },
  };
}

/** A named targetPort must be a container port of the target's pods; a number always works. */
export function checkTargetPort(canary: Canary, target: PodController): Problem[] {
  const targetPort = canary.spec.service.targetPort;
  if (typeof targetPort !== 'string') return [];
  const containers = target.spec?.template.spec?.containers ?? [];
  if (containers.some((c) => (c.ports ?? []).some((p) => p.name === targetPort))) return [];
  return [
    {
      field: 'spec.service.targetPort',
      message: `no container of ${target.kind ?? 'Deployment'} ${target.metadata?.name ?? ''} has a port named ${JSON.stringify(targetPort)}`,
    },
  ];
}

/** What observe() read: the shell copies these into the scheduler's Observations. */
export interface WorkloadObservations {
  /** `<target>-primary`; null before bootstrap created it. `revision` is '' when it carries no annotation. */
  primary: (WorkloadObservation & { revision: string }) | null;
  /** The target; null when it is missing or unusable (see problems). */
  canary: WorkloadObservation | null;
  /** targetRevision of the target (template and tracked configs); '' when it is missing. */
  targetRevision: string;
  /** Content hashes of the tracked configs by `configmap/<name>` / `secret/<name>` (status.trackedConfigs). */
  trackedConfigs?: Record<string, string>;
  problems: Problem[];
}

/**
 * The workload layer reconcile drives, one implementation per targetRef.kind. Every expected failure is a
 * problem naming the Canary field at fault; nothing is created before every input has been checked.
 */
export interface Workload {
  /** Ensures the primary, its tracked config copies, HPA and the three Services exist (SPEC §3.1). */
  bootstrap(canary: Canary): Promise<Outcome<{ created: string[] }>>;
  /** Readiness of the primary and the target, the target's revision; never writes. */
  observe(canary: Canary): Promise<WorkloadObservations>;
  /** Copies the target (template, configs, HPA) to the primary; refuses when the target is not at `revision`. */
  promote(canary: Canary, revision: string): Promise<Outcome<void>>;
  scaleTargetUp(canary: Canary): Promise<Outcome<void>>;
  scaleTargetToZero(canary: Canary): Promise<Outcome<void>>;
}

export type TargetKind = Canary['spec']['targetRef']['kind'];

/** One Workload that hands each call to the implementation for the Canary's targetRef.kind. */
export function workloadByKind(byKind: Record<TargetKind, Workload>): Workload {
  const of = (c: Canary): Workload => byKind[c.spec.targetRef.kind];
  return {
    bootstrap: (c) => of(c).bootstrap(c),
    observe: (c) => of(c).observe(c),
    promote: (c, revision) => of(c).promote(c, revision),
    scaleTargetUp: (c) => of(c).scaleTargetUp(c),
    scaleTargetToZero: (c) => of(c).scaleTargetToZero(c),
  };
}

export interface WorkloadOptions {
  /** Deadline of each API call. */
  timeoutMs?: number;
  /** An informer's copy of the Deployments: reads come from it instead of a GET per object per reconcile. */
  deploymentCache?: ObjectCache;
}

/** A target with everything bootstrap and promote need checked. */
export interface UsableTarget<T extends PodController> {
  target: T;
  sel: SelectorLabel;
  configs: TrackedConfigs;
}

/** The target named by spec.targetRef, read from `resource` (of targetRef.kind), or the problem. */
export async function readTargetFrom<T extends PodController>(
  resource: KubeResource<T>,
  canary: Canary,
): Promise<Outcome<T>> {
  const ref = canary.spec.targetRef;
  if (ref.kind !== resource.kind)
    return {
      ok: false,
      field: 'spec.targetRef.kind',
      message: `${ref.kind} target handed to the ${resource.kind} workload`,
    };
  const got = await resource.get(canary.metadata.namespace, ref.name);
  if (!got.ok) return failureProblem(got, TARGET_FIELD, `reading ${ref.kind} ${ref.name}`);
  if (got.value === null)
    return {
      ok: false,
      field: TARGET_FIELD,
      message: `${ref.kind} ${JSON.stringify(ref.name)} not found in namespace ${JSON.stringify(canary.metadata.namespace)}`,
    };
  return { ok: true, value: got.value };
}

/** The selector label, the targetPort check and the tracked configs of a target read by readTargetFrom. */
export async function checkTarget<T extends PodController>(
  canary: Canary,
  target: T,
  tracker: ConfigTracker,
): Promise<Outcome<UsableTarget<T>>> {
  const sel = selectorLabel(target);
  if (!sel.ok) return sel;
  const [portProblem] = checkTargetPort(canary, target);
  if (portProblem) return { ok: false, ...portProblem };
  const configs = await readConfigs(canary, target, tracker);
  if (!configs.ok) return configs;
  return { ok: true, value: { target, sel: sel.value, configs: configs.value } };
}

/** The tracked configs of the target's pod template. */
export function readConfigs(
  canary: Canary,
  target: PodController,
  tracker: ConfigTracker,
): Promise<Outcome<TrackedConfigs>> {
  const owner = `${canary.spec.targetRef.kind} ${canary.spec.targetRef.name}`;
  return tracker.read(canary.metadata.namespace, target.spec?.template.spec, owner);
}

/** Creates or updates the apex, primary and canary Services; returns the ones it created. */
export async function ensureServices(
  resource: KubeResource<V1Service>,
  canary: Canary,
  sel: SelectorLabel,
): Promise<Outcome<string[]>> {
  const created: string[] = [];
  const names = workloadNames(canary);
  for (const desired of buildServices(canary, sel)) {
    const name = desired.metadata?.name ?? '';
    // With provider kubernetes the router switches the apex Service's selector (blue/green): an existing
    // apex keeps the selector it has, or every reconcile would point it back at the primary for a moment.
    const routerOwned = canary.spec.provider === 'kubernetes' && name === names.apexService;
    const ensured = await resource.ensure(desired, (current) =>
      updatedService(
        current,
        routerOwned && current.spec?.selector
          ? { ...desired, spec: { ...desired.spec, selector: current.spec.selector } }
          : desired,
      ),
    );
    if (!ensured.ok) return failureProblem(ensured, 'spec.service', `writing Service ${name}`);
    if (ensured.value.created) created.push(`Service/${name}`);
  }
  return { ok: true, value: created };
}

/** The problem of a promotion whose target moved on since the revision step() decided to promote. */
export function staleRevision(canary: Canary, revision: string, now: string): { ok: false } & Problem {
  const { kind, name } = canary.spec.targetRef;
  return {
    ok: false,
    field: TARGET_FIELD,
    message: `${kind} ${name} changed since revision ${revision} (now ${now}); not promoting`,
  };
}

/** A target as stored and as its revision and primary see it (DaemonSets: without the scale-to-zero selector). */
export interface TargetViews<T extends PodController> {
  stored: T;
  spec: T;
}

/**
 * observe() of any target kind: the primary's and the target's counts (`count` reads a status), the target's
 * revision and tracked config hashes. A missing or unreadable config makes the target unusable (canary null):
 * nothing runs until it is there.
 */
export async function observeTarget<T extends PodController>(
  canary: Canary,
  target: Outcome<TargetViews<T>>,
  primaries: KubeResource<T>,
  tracker: ConfigTracker,
  count: (w: T) => WorkloadObservation,
): Promise<WorkloadObservations> {
  const name = workloadNames(canary).primary;
  const problems: Problem[] = [];
  if (!target.ok) problems.push({ field: target.field, message: target.message });
  const configs = target.ok ? await readConfigs(canary, target.value.spec, tracker) : undefined;
  if (configs && !configs.ok) problems.push({ field: configs.field, message: configs.message });
  let primary: WorkloadObservations['primary'] = null;
  if (target.ok) {
    const got = await primaries.get(canary.metadata.namespace, name);
    if (!got.ok) {
      const f = failureProblem(got, TARGET_FIELD, `reading ${primaries.kind} ${name}`);
      problems.push({ field: f.field, message: f.message });
    } else if (got.value !== null) {
      const revision = got.value.metadata?.annotations?.[REVISION_ANNOTATION] ?? '';
      primary = { ...count(got.value), revision };
    }
  }
  if (!target.ok || !configs?.ok) return { primary, canary: null, targetRevision: '', problems };
  return {
    primary,
    canary: count(target.value.stored),
    targetRevision: targetRevision(target.value.spec, configs.value.hashes),
    trackedConfigs: configs.value.hashes,
    problems,
  };
}

/**
 * The writes bootstrap makes for any target kind, in order: the tracked configs' `-primary` copies (the
 * primary's pods reference them), `primary` unless it exists, the Services. Returns the names it created.
 */
export async function bootstrapTarget<T extends PodController>(
  canary: Canary,
  usable: UsableTarget<T>,
  primary: T,
  deps: { primaries: KubeResource<T>; services: KubeResource<V1Service>; tracker: ConfigTracker },
): Promise<Outcome<string[]>> {
  const { sel, configs } = usable;
  const copied = await deps.tracker.copyToPrimary(canary, configs, [ownerReference(canary)], 'create');
  if (!copied.ok) return copied;
  const created = [...copied.value];
  const name = workloadNames(canary).primary;
  const p = await deps.primaries.createIfMissing(primary);
  if (!p.ok) return failureProblem(p, TARGET_FIELD, `creating ${deps.primaries.kind} ${name}`);
  if (p.value.created) created.push(`${deps.primaries.kind}/${name}`);
  const s = await ensureServices(deps.services, canary, sel);
  if (!s.ok) return s;
  return { ok: true, value: [...created, ...s.value] };
}

/**
 * The writes promote makes for any target kind: refuses when the target is not at `revision`, then copies the
 * tracked configs' content to their `-primary` copies and replaces the primary with `promoted(primary)`.
 */
export async function promoteTarget<T extends PodController>(
  canary: Canary,
  usable: UsableTarget<T>,
  revision: string,
  deps: { primaries: KubeResource<T>; tracker: ConfigTracker },
  promoted: (primary: T) => T,
): Promise<Outcome<void>> {
  const now = targetRevision(usable.target, usable.configs.hashes);
  if (now !== revision) return staleRevision(canary, revision, now);
  const owner = [ownerReference(canary)];
  const copied = await deps.tracker.copyToPrimary(canary, usable.configs, owner, 'sync');
  if (!copied.ok) return copied;
  const name = workloadNames(canary).primary;
  const kind = deps.primaries.kind;
  const written = await deps.primaries.modify(canary.metadata.namespace, name, promoted);
  if (!written.ok) return failureProblem(written, TARGET_FIELD, `promoting to ${kind} ${name}`);
  if (written.value === null)
    return { ok: false, field: TARGET_FIELD, message: `${kind} ${name} does not exist: bootstrap first` };
  return { ok: true, value: undefined };
}

/**
 * Reads and writes the workloads of Canaries that target a Deployment: the primary Deployment, the `-primary`
 * copies of tracked configs, the primary HPA (spec.autoscalerRef) and the Services.
 */
export class DeploymentWorkload implements Workload {
  private readonly deployments: KubeResource<V1Deployment>;
  private readonly services: KubeResource<V1Service>;
  private readonly configs: ConfigTracker;
  private readonly autoscaler: PrimaryAutoscaler;

  constructor(kc: KubeConfig, opts: WorkloadOptions = {}) {
    this.deployments = deployments(kc, opts.timeoutMs, opts.deploymentCache);
    this.services = services(kc, opts.timeoutMs);
    this.configs = new ConfigTracker(kc, opts.timeoutMs);
    this.autoscaler = new PrimaryAutoscaler(kc, opts.timeoutMs);
  }

  private get writers() {
    return { primaries: this.deployments, services: this.services, tracker: this.configs };
  }

  private readTarget(canary: Canary): Promise<Outcome<V1Deployment>> {
    return readTargetFrom(this.deployments, canary);
  }

  /** readTarget plus every check bootstrap and promote need. */
  private async usableTarget(canary: Canary): Promise<Outcome<UsableTarget<V1Deployment>>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    return checkTarget(canary, target.value, this.configs);
  }

  /**
   * Ensures the tracked config copies, the primary Deployment, the three Services and the primary HPA exist
   * (SPEC §3.1). An existing primary, config copy or HPA is left as it is (only promote changes them); existing
   * Services are updated in place. Returns the names it created.
   */
  async bootstrap(canary: Canary): Promise<Outcome<{ created: string[] }>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel, configs } = usable.value;
    const hpa = await this.autoscaler.target(canary);
    if (!hpa.ok) return hpa;
    const names = workloadNames(canary);
    // Built before any write, so a bad Canary (no uid) fails before anything exists.
    const owner = ownerReference(canary);
    const primaryHpa = hpa.value ? buildPrimaryHpa(canary, hpa.value, names.primary, owner) : undefined;
    const revision = targetRevision(target, configs.hashes);
    const replicas = primaryHpa ? primaryHpaMin(primaryHpa) : undefined;
    const primary = buildPrimaryDeployment(canary, target, sel, revision, configs, replicas);
    const written = await bootstrapTarget(canary, usable.value, primary, this.writers);
    if (!written.ok) return written;
    const created = written.value;
    if (primaryHpa) {
      const h = await this.autoscaler.write(primaryHpa, 'create');
      if (!h.ok) return h;
      if (h.value) created.push(`HorizontalPodAutoscaler/${primaryHpa.metadata?.name ?? ''}`);
    }
    return { ok: true, value: { created } };
  }

  /** Replica counts of the primary and the target, the target's revision and tracked configs; never writes. */
  async observe(canary: Canary): Promise<WorkloadObservations> {
    const target = await this.readTarget(canary);
    const views = target.ok
      ? { ok: true as const, value: { stored: target.value, spec: target.value } }
      : target;
    return observeTarget(canary, views, this.deployments, this.configs, workloadObservation);
  }

  /**
   * Copies the tracked configs' current content to their `-primary` copies, the target's template to the
   * primary (recording `revision` on it) and the target HPA's spec to the primary HPA, in that order. Refuses
   * (a problem) when the target no longer is at `revision`: the primary's annotation always names what it runs.
   */
  async promote(canary: Canary, revision: string): Promise<Outcome<void>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel, configs } = usable.value;
    const hpa = await this.autoscaler.target(canary);
    if (!hpa.ok) return hpa;
    const promoted = await promoteTarget(canary, usable.value, revision, this.writers, (primary) =>
      promotedPrimary(primary, target, sel, revision, configs, hpa.value !== null),
    );
    if (!promoted.ok || !hpa.value) return promoted;
    const name = workloadNames(canary).primary;
    const h = await this.autoscaler.write(
      buildPrimaryHpa(canary, hpa.value, name, ownerReference(canary)),
      'sync',
    );
    return h.ok ? { ok: true, value: undefined } : h;
  }

  /** Sets the target's spec.replicas (a merge patch; nothing else of it changes). */
  async scaleTarget(canary: Canary, replicas: number): Promise<Outcome<void>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    if (target.value.spec?.replicas === replicas) return { ok: true, value: undefined };
    const name = canary.spec.targetRef.name;
    const patched = await this.deployments.mergePatch(canary.metadata.namespace, name, {
      spec: { replicas },
    });
    if (!patched.ok) return failureProblem(patched, TARGET_FIELD, `scaling Deployment ${name}`);
    return { ok: true, value: undefined };
  }

  /** Scales the target up for a run: to its own replicas if it has any, else to the primary's (≥ 1). */
  async scaleTargetUp(canary: Canary): Promise<Outcome<void>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    if ((target.value.spec?.replicas ?? 0) > 0) return { ok: true, value: undefined };
    const primary = await this.deployments.get(canary.metadata.namespace, workloadNames(canary).primary);
    if (!primary.ok) return failureProblem(primary, TARGET_FIELD, 'reading the primary Deployment');
    return this.scaleTarget(canary, Math.max(1, primary.value?.spec?.replicas ?? 1));
  }

  /** Replicas to 0. The target's HPA (if any) is left alone: an HPA does not scale a workload at zero. */
  async scaleTargetToZero(canary: Canary): Promise<Outcome<void>> {
    return this.scaleTarget(canary, 0);
  }
}
