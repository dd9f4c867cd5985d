// DaemonSet targets (targetRef.kind DaemonSet): pure builders of `<name>-primary` and DaemonSetWorkload. A
// DaemonSet cannot be scaled, so "scale to zero" is Flagger's node selector that matches no node.
import type { KubeConfig, V1DaemonSet, V1Service } from '@kubernetes/client-node';
import type { Canary } from '../crds/schema/flagger.js';
import type { TrackedConfigs } from './configs.js';
import { ConfigTracker, NO_CONFIGS } from './configs.js';
import type { Outcome } from './k8s/client.js';
import { KubeResource, resourceAt, failureProblem, services } from './k8s/client.js';
import type { WorkloadObservation } from './scheduler/types.js';
import type { Problem } from './validate.js';
import type {
  SelectorLabel,
  UsableTarget,
  Workload,
  WorkloadObservations,
  WorkloadOptions,
} from './workload.js';
import {
  bootstrapTarget,
  checkTarget,
  observeTarget,
  primaryLabels,
  primaryMetadata,
  primarySelector,
  primaryTemplate,
  promotedMetadata,
  promoteTarget,
  readTargetFrom,
  targetRevision,
} from './workload.js';

/** Flagger's node selector for a DaemonSet "at zero": no node carries this label, so no pod runs. */
export const SCALE_TO_ZERO_LABEL = 'flagger.app/scale-to-zero';
const SCALE_TO_ZERO_VALUE = 'true';

const TARGET_FIELD = 'spec.targetRef.name';

export const isScaledToZero = (ds: V1DaemonSet): boolean =>
  ds.spec?.template.spec?.nodeSelector?.[SCALE_TO_ZERO_LABEL] === SCALE_TO_ZERO_VALUE;

/**
 * The DaemonSet as the user wrote it: without the scale-to-zero node selector, and without a node selector
 * left empty (scaling up removes our key and leaves `{}`), so scaling never changes the revision and the
 * primary never inherits it.
 */
export function withoutScaleToZero(ds: V1DaemonSet): V1DaemonSet {
  const podSpec = ds.spec?.template.spec;
  if (!ds.spec || !podSpec?.nodeSelector) return ds;
  const { [SCALE_TO_ZERO_LABEL]: _dropped, ...rest } = podSpec.nodeSelector;
  const { nodeSelector: _all, ...specRest } = podSpec;
  const spec = Object.keys(rest).length > 0 ? { ...specRest, nodeSelector: rest } : specRest;
  return { ...ds, spec: { ...ds.spec, template: { ...ds.spec.template, spec } } };
}

/** Rollout settings the primary takes over from the target with its template. */
function rolloutSettings(target: V1DaemonSet): Partial<NonNullable<V1DaemonSet['spec']>> {
  const s = target.spec;
  return {
    ...(s?.updateStrategy ? { updateStrategy: structuredClone(s.updateStrategy) } : {}),
    ...(s?.minReadySeconds !== undefined ? { minReadySeconds: s.minReadySeconds } : {}),
    ...(s?.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: s.revisionHistoryLimit } : {}),
  };
}

/** A new `<target>-primary` DaemonSet running `revision` of the target, owned by the Canary. */
export function buildPrimaryDaemonSet(
  canary: Canary,
  target: V1DaemonSet,
  sel: SelectorLabel,
  revision: string,
  configs: TrackedConfigs = NO_CONFIGS,
): V1DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: primaryMetadata(canary, target, sel, revision),
    spec: {
      ...rolloutSettings(target),
      selector: { matchLabels: primaryLabels(target.spec?.selector.matchLabels, sel) },
      template: primaryTemplate(withoutScaleToZero(target), sel, configs),
    },
  };
}

/** The existing primary running `revision`: the target's template and rollout settings; the selector is kept. */
export function promotedPrimaryDaemonSet(
  primary: V1DaemonSet,
  target: V1DaemonSet,
  sel: SelectorLabel,
  revision: string,
  configs: TrackedConfigs = NO_CONFIGS,
): V1DaemonSet {
  return {
    ...primary,
    metadata: promotedMetadata(primary, revision),
    spec: {
      ...primary.spec,
      ...rolloutSettings(target),
      selector: primarySelector(primary, target, sel),
      template: primaryTemplate(withoutScaleToZero(target), sel, configs),
    },
  };
}

/**
 * Counts from a DaemonSet's status, per node: desired = desiredNumberScheduled, updated =
 * updatedNumberScheduled (0 while the controller has not observed the spec), ready = numberReady, and
 * replicas = nodes running a pod plus misscheduled pods (old pods left where none belongs any more).
 */
export function daemonSetObservation(ds: V1DaemonSet): WorkloadObservation {
  const s = ds.status;
  const observed = (s?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
  return {
    desiredReplicas: s?.desiredNumberScheduled ?? 0,
    updatedReplicas: observed ? (s?.updatedNumberScheduled ?? 0) : 0,
    readyReplicas: s?.numberReady ?? 0,
    replicas: (s?.currentNumberScheduled ?? 0) + (s?.numberMisscheduled ?? 0),
  };
}

/** Flagger's rule: only a RollingUpdate DaemonSet rolls its pods when promoted (OnDelete never would). */
export function checkUpdateStrategy(target: V1DaemonSet): Problem[] {
  const type = target.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (type === 'RollingUpdate') return [];
  return [
    {
      field: TARGET_FIELD,
      message: `DaemonSet ${target.metadata?.name ?? ''}: spec.updateStrategy.type must be RollingUpdate (it is ${type})`,
    },
  ];
}

export function daemonSets(kc: KubeConfig, timeoutMs?: number): KubeResource<V1DaemonSet> {
  return new KubeResource<V1DaemonSet>(kc, 'DaemonSet', resourceAt('apps/v1', 'daemonsets'), timeoutMs);
}

/**
 * Reads and writes the workloads of Canaries that target a DaemonSet: `<name>-primary`, the tracked config
 * copies and the Services. spec.autoscalerRef is a problem (a DaemonSet cannot be autoscaled).
 */
export class DaemonSetWorkload implements Workload {
  private readonly daemonSets: KubeResource<V1DaemonSet>;
  private readonly services: KubeResource<V1Service>;
  private readonly configs: ConfigTracker;

  constructor(kc: KubeConfig, opts: WorkloadOptions = {}) {
    this.daemonSets = daemonSets(kc, opts.timeoutMs);
    this.services = services(kc, opts.timeoutMs);
    this.configs = new ConfigTracker(kc, opts.timeoutMs);
  }

  private get writers() {
    return { primaries: this.daemonSets, services: this.services, tracker: this.configs };
  }

  /** The target as read, and as the user wrote it (withoutScaleToZero), or the problem. */
  private async readTarget(canary: Canary): Promise<Outcome<{ stored: V1DaemonSet; spec: V1DaemonSet }>> {
    if (canary.spec.autoscalerRef)
      return {
        ok: false,
        field: 'spec.autoscalerRef',
        message: 'a DaemonSet target cannot be autoscaled: remove spec.autoscalerRef',
      };
    const got = await readTargetFrom(this.daemonSets, canary);
    if (!got.ok) return got;
    return { ok: true, value: { stored: got.value, spec: withoutScaleToZero(got.value) } };
  }

  private async usableTarget(canary: Canary): Promise<Outcome<UsableTarget<V1DaemonSet>>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    const [strategyProblem] = checkUpdateStrategy(target.value.spec);
    if (strategyProblem) return { ok: false, ...strategyProblem };
    return checkTarget(canary, target.value.spec, this.configs);
  }

  async bootstrap(canary: Canary): Promise<Outcome<{ created: string[] }>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel, configs } = usable.value;
    const revision = targetRevision(target, configs.hashes);
    const primary = buildPrimaryDaemonSet(canary, target, sel, revision, configs);
    const created = await bootstrapTarget(canary, usable.value, primary, this.writers);
    return created.ok ? { ok: true, value: { created: created.value } } : created;
  }

  async observe(canary: Canary): Promise<WorkloadObservations> {
    const target = await this.readTarget(canary);
    return observeTarget(canary, target, this.daemonSets, this.configs, daemonSetObservation);
  }

  async promote(canary: Canary, revision: string): Promise<Outcome<void>> {
    const usable = await this.usableTarget(canary);
    if (!usable.ok) return usable;
    const { target, sel, configs } = usable.value;
    return promoteTarget(canary, usable.value, revision, this.writers, (primary) =>
      promotedPrimaryDaemonSet(primary, target, sel, revision, configs),
    );
  }

  /** Removes the scale-to-zero node selector: the target's pods come back on every eligible node. */
  async scaleTargetUp(canary: Canary): Promise<Outcome<void>> {
    return this.setScaledToZero(canary, false);
  }

  /** Adds the scale-to-zero node selector: the DaemonSet controller removes the target's pods. */
  async scaleTargetToZero(canary: Canary): Promise<Outcome<void>> {
    return this.setScaledToZero(canary, true);
  }

  private async setScaledToZero(canary: Canary, zero: boolean): Promise<Outcome<void>> {
    const target = await this.readTarget(canary);
    if (!target.ok) return target;
    if (isScaledToZero(target.value.stored) === zero) return { ok: true, value: undefined };
    const name = canary.spec.targetRef.name;
    // A merge patch touches only this key of the node selector (null removes it).
    const patched = await this.daemonSets.mergePatch(canary.metadata.namespace, name, {
      spec: {
        template: { spec: { nodeSelector: { [SCALE_TO_ZERO_LABEL]: zero ? SCALE_TO_ZERO_VALUE : null } } },
      },
    });
    if (!patched.ok) return failureProblem(patched, TARGET_FIELD, `scaling DaemonSet ${name}`);
    return { ok: true, value: undefined };
  }
}
