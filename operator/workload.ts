// The Canary's workloads (SPEC §3.1): pure builders of the primary Deployment and the apex/primary/canary
// Services from the target Deployment, and DeploymentWorkload, which reads and writes them.
import { createHash } from 'node:crypto';
import type {
  KubeConfig,
  V1Deployment,
  V1OwnerReference,
  V1PodTemplateSpec,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';
import type { Canary } from '../crds/schema/flagger.js';
import type { WorkloadObservation } from './scheduler/types.js';
import type { Problem } from './validate.js';
import type { KubeResource, Outcome } from './k8s/client.js';
import { canonicalJson, deployments, failureProblem, services } from './k8s/client.js';

/** Annotation on the primary Deployment: the target revision (targetRevision) its template runs. */
export const REVISION_ANNOTATION = 'fledge.dev/revision';

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

export function selectorLabel(target: V1Deployment): Outcome<SelectorLabel> {
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
      `Deployment ${target.metadata?.name ?? ''}: spec.selector.matchLabels must carry one of ` +
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

/** The target's pod template for the primary: selector label rewritten, everything else (annotations too) kept. */
export function primaryTemplate(target: V1Deployment, sel: SelectorLabel): V1PodTemplateSpec {
  const template = structuredClone(target.spec?.template ?? {});
  return {
    ...template,
    metadata: { ...template.metadata, labels: primaryLabels(template.metadata?.labels, sel) },
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

/** A new `<target>-primary` Deployment running `revision` of the target, owned by the Canary. */
export function buildPrimaryDeployment(
  canary: Canary,
  target: V1Deployment,
  sel: SelectorLabel,
  revision: string,
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: workloadNames(canary).primary,
      namespace: canary.metadata.namespace,
      labels: primaryLabels(target.metadata?.labels, sel),
      annotations: { [REVISION_ANNOTATION]: revision },
      ownerReferences: [ownerReference(canary)],
    },
    spec: {
      ...rolloutSettings(target),
      replicas: primaryReplicas(target, null),
      selector: { matchLabels: primaryLabels(target.spec?.selector.matchLabels, sel) },
      template: primaryTemplate(target, sel),
    },
  };
}

/**
 * The existing primary after promoting `revision`: the target's template (labels rewritten) and rollout
 * settings, replicas from the target when it runs any, the revision annotation. Selector and everything else
 * of the primary are kept (the selector is immutable).
 */
export function promotedPrimary(
  primary: V1Deployment,
  target: V1Deployment,
  sel: SelectorLabel,
  revision: string,
): V1Deployment {
  const fromTarget = target.spec?.replicas ?? 0;
  return {
    ...primary,
    metadata: {
      ...primary.metadata,
      annotations: { ...primary.metadata?.annotations, [REVISION_ANNOTATION]: revision },
    },
    spec: {
      ...primary.spec,
      ...rolloutSettings(target),
      selector: primary.spec?.selector ?? {
        matchLabels: primaryLabels(target.spec?.selector.matchLabels, sel),
      },
      replicas: fromTarget > 0 ? fromTarget : primary.spec?.replicas,
      template: primaryTemplate(target, sel),
    },
  };
}

/**
 * The revision of the target: a content hash (16 hex digits) of its stored pod template and of the tracked
 * configs' hashes. Keys are sorted and null fields dropped, so the same template read back hashes the same.
 */
export function targetRevision(target: V1Deployment, configHashes: Record<string, string> = {}): string {
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
export function checkTargetPort(canary: Canary, target: V1Deployment): Problem[] {
  const targetPort = canary.spec.service.targetPort;
  if (typeof targetPort !== 'string') return [];
  const containers = target.spec?.template.spec?.containers ?? [];
  if (containers.some((c) => (c.ports ?? []).some((p) => p.name === targetPort))) return [];
  return [
    {
      field: 'spec.service.targetPort',
      message: `no container of Deployment ${target.metadata?.name ?? ''} has a port named ${JSON.stringify(targetPort)}`,
    },
  ];
}

/** What observe() read: the shell copies these into the scheduler's Observations. */
export interface WorkloadObservations {
  /** `<target>-primary`; null before bootstrap created it. `revision` is '' when it carries no annotation. */
  primary: (WorkloadObservation & { revision: string }) | null;
  /** The target Deployment; null when it is missing (see problems). */
  canary: WorkloadObservation | null;
  /** targetRevision of the target; '' when it is missing. */
  targetRevision: string;
  problems: Problem[];
}

export interface WorkloadOptions {
  /** Deadline of each API call. */
  timeoutMs?: number;
}

interface Target {
  target: V1Deployment;
  sel: SelectorLabel;
}

/**
 * Reads and writes the workloads of Canaries that target a Deployment. Every expected failure (missing or
 * unusable target, API errors) is returned as a problem naming the Canary field at fault; nothing is created
 * before every input has been checked.
 */
export class DeploymentWorkload {
  private readonly deployments: KubeResource<V1Deployment>;
  private readonly services: KubeResource<V1Service>;

  constructor(kc: KubeConfig, opts: WorkloadOptions = {}) {
    this.deployments = deployments(kc, opts.timeoutMs);
    this.services = services(kc, opts.timeoutMs);
  }

  /** The target Deployment, or the problem that stops us from using it. */
  private async readTarget(canary: Canary): Promise<Outcome<V1Deployment>> {
    const ref = canary.spec.targetRef;
    if (ref.kind !== 'Deployment')
      return {
        ok: false,
        field: 'spec.targetRef.kind',
        message: `${ref.kind} targets are not supported yet (only Deployment)`,
      };
    const got = await this.deployments.get(canary.metadata.namespace, ref.name);
    if (!got.ok) return failureProblem(got, TARGET_FIELD, `reading Deployment ${ref.name}`);
    if (got.value === null)
      return {
        ok: false,
        field: TARGET_FIELD,
        message: `Deployment ${JSON.stringify(ref.name)} not found in namespace ${JSON.stringify(canary.metadata.namespace)}`,
      };
    return { ok: true, value: got.value };
  }

  /** readTarget plus every check bootstrap and promote need. */
  private async usableTarget(canary: Canary): Promise<Outcome<Target>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    const sel = selectorLabel(target.value);
    if (!sel.ok) return sel;
    const [portProblem] = checkTargetPort(canary, target.value);
    if (portProblem) return { ok: false, ...portProblem };
    return { ok: true, value: { target: target.value, sel: sel.value } };
  }

  /**
   * Ensures the primary Deployment and the three Services exist (SPEC §3.1). An existing primary is left as it
   * is (only promote changes it); existing Services are updated in place. Returns the names it created.
   */
  async bootstrap(canary: Canary): Promise<Outcome<{ created: string[] }>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel } = usable.value;
    const names = workloadNames(canary);
    // Built before any write, so a bad Canary (no uid) fails before anything exists.
    const primary = buildPrimaryDeployment(canary, target, sel, targetRevision(target));
    const desiredServices = buildServices(canary, sel);
    const created: string[] = [];

    const p = await this.deployments.createIfMissing(primary);
    if (!p.ok) return failureProblem(p, TARGET_FIELD, `creating Deployment ${names.primary}`);
    if (p.value.created) created.push(`Deployment/${names.primary}`);

    for (const desired of desiredServices) {
      const name = desired.metadata?.name ?? '';
      const ensured = await this.services.ensure(desired, (current) => updatedService(current, desired));
      if (!ensured.ok) return failureProblem(ensured, 'spec.service', `writing Service ${name}`);
      if (ensured.value.created) created.push(`Service/${name}`);
    }
    return { ok: true, value: { created } };
  }

  /** Replica counts of the primary and the target and the target's revision; never writes. */
  async observe(canary: Canary): Promise<WorkloadObservations> {
    const names = workloadNames(canary);
    const problems: Problem[] = [];
    const target = await this.readTarget(canary);
    if (!target.ok) problems.push({ field: target.field, message: target.message });
    let primary: WorkloadObservations['primary'] = null;
    if (canary.spec.targetRef.kind === 'Deployment') {
      const got = await this.deployments.get(canary.metadata.namespace, names.primary);
      if (!got.ok) {
        const f = failureProblem(got, TARGET_FIELD, `reading Deployment ${names.primary}`);
        problems.push({ field: f.field, message: f.message });
      } else if (got.value !== null) {
        const revision = got.value.metadata?.annotations?.[REVISION_ANNOTATION] ?? '';
        primary = { ...workloadObservation(got.value), revision };
      }
    }
    return {
      primary,
      canary: target.ok ? workloadObservation(target.value) : null,
      targetRevision: target.ok ? targetRevision(target.value) : '',
      problems,
    };
  }

  /**
   * Copies the target's template to the primary and records `revision` on it. Refuses (a problem) when the
   * target no longer is at `revision`: the primary's annotation always names the template it runs.
   */
  async promote(canary: Canary, revision: string): Promise<Outcome<void>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel } = usable.value;
    const now = targetRevision(target);
    if (now !== revision)
      return {
        ok: false,
        field: TARGET_FIELD,
        message: `Deployment ${target.metadata?.name ?? ''} changed since revision ${revision} (now ${now}); not promoting`,
      };
    const name = workloadNames(canary).primary;
    const written = await this.deployments.modify(canary.metadata.namespace, name, (primary) =>
      promotedPrimary(primary, target, sel, revision),
    );
    if (!written.ok) return failureProblem(written, TARGET_FIELD, `promoting to Deployment ${name}`);
    if (written.value === null)
      return {
        ok: false,
        field: TARGET_FIELD,
        message: `Deployment ${name} does not exist: bootstrap first`,
      };
    return { ok: true, value: undefined };
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

  async scaleTargetToZero(canary: Canary): Promise<Outcome<void>> {
    return this.scaleTarget(canary, 0);
  }
}
