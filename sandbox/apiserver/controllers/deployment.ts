// Deployment controller core (pure): Deployment + its ReplicaSets + pods → the ReplicaSet writes and the
// revision/status kube-controller-manager v1.26 makes (rolling, recreate, proportional scaling, history).
import { isDeepStrictEqual } from 'node:util';
import { timestamp } from '../meta.js';
import type { JsonObject } from '../types.js';
import { clone } from '../types.js';
import {
  annotationsAt,
  controllerOf,
  controllerRef,
  isDeleting,
  labelsAt,
  listAt,
  metaAt,
  mutObj,
  nameAt,
  namespaceAt,
  numAt,
  objAt,
  scaledValue,
  selectorIsEmpty,
  selectorMatches,
  specAt,
  statusAt,
  strAt,
  timeMs,
  uidAt,
} from './objects.js';
import { desiredReplicas as rsReplicas, minReadySecondsOf } from './replicaset.js';
import { podTemplateHash } from './template-hash.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Deployment annotations that are not copied onto its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);
const MAX_INT32 = 2147483647;
const MAX_REVISION_HISTORY_CHARS = 2000;

export interface DeploymentInput {
  deployment: JsonObject;
  /** The ReplicaSets the Deployment controls (already claimed). */
  replicaSets: JsonObject[];
  /** The namespace's pods (the Recreate strategy waits for old ones to be gone). */
  pods: JsonObject[];
  nowMs: number;
}

export type ReplicaSetWrite = { op: 'create' | 'update' | 'delete'; rs: JsonObject };

export interface DeploymentPlan {
  /** ReplicaSet writes in order; one per ReplicaSet. Updates carry the read resourceVersion. */
  writes: ReplicaSetWrite[];
  /** The Deployment's new annotations and status, present only when either changed. */
  deployment?: { annotations: Record<string, string>; status: JsonObject };
  /** Sync again after this long to check the progress deadline. */
  requeueAfterMs?: number;
}

// ------------------------------------------------------------------------------- spec helpers

export const deploymentReplicas = (d: JsonObject): number => numAt(specAt(d).replicas, 1);
const isRecreate = (d: JsonObject): boolean => objAt(specAt(d).strategy).type === 'Recreate';

function hasProgressDeadline(d: JsonObject): boolean {
  const v = specAt(d).progressDeadlineSeconds;
  return typeof v === 'number' && v !== MAX_INT32;
}

/** Surge and unavailability for `desired` replicas; both zero would deadlock, so unavailability becomes 1. */
function fenceposts(d: JsonObject, desired: number): { surge: number; unavailable: number } {
  const ru = objAt(objAt(specAt(d).strategy).rollingUpdate);
  const surge = scaledValue(ru.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: JsonObject): number {
  if (isRecreate(d)) return 0;
  return fenceposts(d, deploymentReplicas(d)).surge;
}

export function maxUnavailable(d: JsonObject): number {
  const desired = deploymentReplicas(d);
  if (isRecreate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d, desired).unavailable, desired);
}

const revisionOf = (rs: JsonObject): number => {
  const v = annotationsAt(rs)[REVISION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
};

const intAnnotation = (rs: JsonObject, key: string): number | undefined => {
  const v = annotationsAt(rs)[key];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
};

const stat = (rs: JsonObject, field: string): number => numAt(statusAt(rs)[field]);
const sum = (sets: JsonObject[], f: (rs: JsonObject) => number): number =>
  sets.reduce((n, rs) => n + f(rs), 0);
const active = (sets: (JsonObject | undefined)[]): JsonObject[] =>
  sets.filter((rs): rs is JsonObject => rs !== undefined && rsReplicas(rs) > 0);

/** Go's integer.RoundToInt32: halves away from zero. */
const roundHalfAway = (x: number): number => (x < 0 ? Math.trunc(x - 0.5) : Math.trunc(x + 0.5));

const createdMs = (rs: JsonObject, nowMs: number): number => timeMs(metaAt(rs).creationTimestamp) ?? nowMs;

/** Whether two pod templates are equal once the pod-template-hash label is ignored. */
export function templatesEqualIgnoringHash(a: JsonObject, b: JsonObject): boolean {
  const strip = (t: JsonObject): JsonObject => {
    const c = clone(t);
    const meta = objAt(c.metadata);
    if (Object.prototype.hasOwnProperty.call(meta, 'labels')) {
      const labels = { ...objAt(meta.labels) };
      delete labels[TEMPLATE_HASH_LABEL];
      meta.labels = labels;
    }
    return c;
  };
  return isDeepStrictEqual(strip(a), strip(b));
}

// ------------------------------------------------------------------------------- conditions

function condition(status: JsonObject, type: string): JsonObject | undefined {
  return listAt(status.conditions).find((c) => c.type === type);
}

const newCondition = (
  type: string,
  st: string,
  reason: string,
  message: string,
  now: string,
): JsonObject => ({
  type,
  status: st,
  lastUpdateTime: now,
  lastTransitionTime: now,
  reason,
  message,
});

/** Sets a condition unless one with the same status and reason exists; keeps the transition time when status holds. */
function setCondition(status: JsonObject, cond: JsonObject): void {
  const current = condition(status, strAt(cond.type));
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  if (current && current.status === cond.status) cond.lastTransitionTime = current.lastTransitionTime ?? null;
  status.conditions = [...listAt(status.conditions).filter((c) => c.type !== cond.type), cond];
}

function removeCondition(status: JsonObject, type: string): void {
  const rest = listAt(status.conditions).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

function deploymentComplete(d: JsonObject, status: JsonObject): boolean {
  const want = deploymentReplicas(d);
  return (
    numAt(status.updatedReplicas) === want &&
    numAt(status.replicas) === want &&
    numAt(status.availableReplicas) === want &&
    numAt(status.observedGeneration) >= numAt(metaAt(d).generation)
  );
}

/** Any sign of progress between the stored status and the new one. */
function deploymentProgressing(old: JsonObject, next: JsonObject): boolean {
  const oldOld = numAt(old.replicas) - numAt(old.updatedReplicas);
  const newOld = numAt(next.replicas) - numAt(next.updatedReplicas);
  return (
    numAt(next.updatedReplicas) > numAt(old.updatedReplicas) ||
    newOld < oldOld ||
    numAt(next.readyReplicas) > numAt(old.readyReplicas) ||
    numAt(next.availableReplicas) > numAt(old.availableReplicas)
  );
}

// ------------------------------------------------------------------------------- the sync

/** One sync of one Deployment over working copies; records ReplicaSet writes instead of making them. */
class DeploymentSync {
  readonly d: JsonObject;
  private readonly sets = new Map<string, JsonObject>();
  private readonly writes = new Map<string, ReplicaSetWrite>();
  private readonly now: string;
  private checkedProgress = false;

  constructor(private readonly input: DeploymentInput) {
    this.d = clone(input.deployment);
    if (typeof this.d.status !== 'object' || this.d.status === null || Array.isArray(this.d.status))
      this.d.status = {};
    for (const rs of input.replicaSets) this.sets.set(nameAt(rs), rs);
    this.now = timestamp(input.nowMs);
  }

  private get status(): JsonObject {
    return this.d.status as JsonObject;
  }

  private get desired(): number {
    return deploymentReplicas(this.d);
  }

  /** The working ReplicaSets, oldest first (ties by name). */
  private all(): JsonObject[] {
    return [...this.sets.values()].sort((a, b) => this.byCreation(a, b));
  }

  private byCreation(a: JsonObject, b: JsonObject): number {
    const d = createdMs(a, this.input.nowMs) - createdMs(b, this.input.nowMs);
    if (d !== 0) return d;
    return nameAt(a) < nameAt(b) ? -1 : nameAt(a) > nameAt(b) ? 1 : 0;
  }

  private get(name: string | undefined): JsonObject | undefined {
    return name === undefined ? undefined : this.sets.get(name);
  }

  private olds(newName: string | undefined): JsonObject[] {
    return this.all().filter((rs) => nameAt(rs) !== newName);
  }

  private record(op: 'create' | 'update', rs: JsonObject): void {
    const name = nameAt(rs);
    this.sets.set(name, rs);
    const prior = this.writes.get(name);
    if (prior && prior.op === 'create') prior.rs = rs;
    else this.writes.set(name, { op, rs });
  }

  run(): DeploymentPlan {
    const d = this.d;
    if (selectorIsEmpty(objAt(specAt(d).selector))) {
      // kube refuses to act on a Deployment selecting everything; it only acknowledges the generation.
      const gen = numAt(metaAt(d).generation);
      if (numAt(this.status.observedGeneration) < gen) this.status.observedGeneration = gen;
    } else if (isDeleting(d)) {
      this.syncStatus(this.newReplicaSet(false));
    } else {
      this.checkPausedConditions();
      if (specAt(d).paused === true || this.isScalingEvent()) this.syncScale();
      else if (isRecreate(d)) this.rolloutRecreate();
      else this.rolloutRolling();
    }
    return this.result();
  }

  private result(): DeploymentPlan {
    const plan: DeploymentPlan = { writes: [...this.writes.values()] };
    const before = {
      annotations: annotationsAt(this.input.deployment),
      status: statusAt(this.input.deployment),
    };
    const after = { annotations: annotationsAt(this.d), status: this.status };
    if (
      !isDeepStrictEqual({ ...before.annotations }, { ...after.annotations }) ||
      !isDeepStrictEqual({ ...before.status }, { ...after.status })
    ) {
      plan.deployment = after;
    }
    const cond = condition(this.status, 'Progressing');
    if (
      this.checkedProgress &&
      hasProgressDeadline(this.d) &&
      cond &&
      cond.reason !== 'ProgressDeadlineExceeded' &&
      !deploymentComplete(this.d, this.status)
    ) {
      const deadline =
        (timeMs(cond.lastUpdateTime) ?? this.input.nowMs) +
        numAt(specAt(this.d).progressDeadlineSeconds) * 1000;
      plan.requeueAfterMs = Math.max(0, deadline - this.input.nowMs) + 1000;
    }
    return plan;
  }

  // ----------------------------------------------------------------- new ReplicaSet and revisions

  private findNew(): JsonObject | undefined {
    const template = objAt(specAt(this.d).template);
    const sets = this.all();
    const equal = sets.find((rs) => templatesEqualIgnoringHash(objAt(specAt(rs).template), template));
    if (equal) return equal;
    // A ReplicaSet stamped with this template's hash was made from it, even if defaulting changed its copy.
    const hash = podTemplateHash(template, this.collisionCount());
    return sets.find((rs) => labelsAt(rs)[TEMPLATE_HASH_LABEL] === hash);
  }

  private collisionCount(): number | undefined {
    const c = this.status.collisionCount;
    return typeof c === 'number' ? c : undefined;
  }

  /** Finds (and when asked, creates) the ReplicaSet for the current template; returns its name. */
  private newReplicaSet(create: boolean): string | undefined {
    const existing = this.findNew();
    const olds = this.all().filter((rs) => rs !== existing);
    const newRevision = String(Math.max(0, ...olds.map(revisionOf)) + 1);
    if (existing) {
      const copy = clone(existing);
      const changed = this.stampReplicaSet(copy, newRevision, true);
      const wantMinReady = minReadySecondsOf(this.d);
      if (changed || minReadySecondsOf(copy) !== wantMinReady) {
        const spec = mutObj(copy, 'spec');
        if (wantMinReady > 0) spec.minReadySeconds = wantMinReady;
        else delete spec.minReadySeconds;
        this.record('update', copy);
        return nameAt(copy);
      }
      this.setRevision(annotationsAt(copy)[REVISION] ?? '');
      if (hasProgressDeadline(this.d) && !condition(this.status, 'Progressing')) {
        const msg = `Found new replica set "${nameAt(copy)}"`;
        setCondition(this.status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', msg, this.now));
      }
      return nameAt(copy);
    }
    if (!create) return undefined;
    const rs = this.newReplicaSetObject();
    mutObj(rs, 'spec').replicas = this.newReplicas([...olds, rs], rs);
    this.stampReplicaSet(rs, newRevision, false);
    this.record('create', rs);
    this.setRevision(newRevision);
    if (hasProgressDeadline(this.d)) {
      const msg = `Created new replica set "${nameAt(rs)}"`;
      setCondition(this.status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', msg, this.now));
    }
    return nameAt(rs);
  }

  private newReplicaSetObject(): JsonObject {
    const spec = specAt(this.d);
    const template = clone(objAt(spec.template));
    const hash = podTemplateHash(objAt(spec.template), this.collisionCount());
    const tmeta = objAt(template.metadata);
    const labels = { ...objAt(tmeta.labels), [TEMPLATE_HASH_LABEL]: hash };
    template.metadata = { ...tmeta, labels };
    const selector = clone(objAt(spec.selector));
    selector.matchLabels = { ...objAt(selector.matchLabels), [TEMPLATE_HASH_LABEL]: hash };
    const rsSpec: JsonObject = { replicas: 0 };
    const minReady = minReadySecondsOf(this.d);
    if (minReady > 0) rsSpec.minReadySeconds = minReady;
    rsSpec.selector = selector;
    rsSpec.template = template;
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${nameAt(this.d)}-${hash}`,
        namespace: namespaceAt(this.d),
        labels: { ...labels },
        ownerReferences: [controllerRef(this.d, 'apps/v1', 'Deployment')],
      },
      spec: rsSpec,
    };
  }

  /**
   * Copies the Deployment's annotations onto the new ReplicaSet, raises its revision (keeping the
   * old one in revision-history when an old template comes back) and, for a ReplicaSet about to be
   * created, sets the replica annotations. Mutates `rs`; returns whether anything changed.
   */
  private stampReplicaSet(rs: JsonObject, newRevision: string, exists: boolean): boolean {
    const meta = mutObj(rs, 'metadata');
    const ann = annotationsAt(rs);
    let changed = false;
    for (const [k, v] of Object.entries(annotationsAt(this.d))) {
      if (NOT_COPIED.has(k) || ann[k] === v) continue;
      ann[k] = v;
      changed = true;
    }
    const had = Object.prototype.hasOwnProperty.call(ann, REVISION);
    const oldRevision = ann[REVISION] ?? '';
    if (oldRevision !== '' && !/^-?\d+$/.test(oldRevision)) {
      meta.annotations = ann;
      return changed;
    }
    const oldInt = oldRevision === '' ? 0 : Number(oldRevision);
    if (oldInt < Number(newRevision)) {
      ann[REVISION] = newRevision;
      changed = true;
      if (had) {
        const history = ann[REVISION_HISTORY] ?? '';
        const parts = history.split(',');
        if (parts[0] === '') ann[REVISION_HISTORY] = oldRevision;
        else {
          let total = history.length + oldRevision.length + 1;
          let start = 0;
          while (total > MAX_REVISION_HISTORY_CHARS && start < parts.length) {
            total -= (parts[start] ?? '').length + 1;
            start++;
          }
          if (total <= MAX_REVISION_HISTORY_CHARS)
            ann[REVISION_HISTORY] = [...parts.slice(start), oldRevision].join(',');
        }
      }
    }
    if (!exists && this.setReplicaAnnotations(ann)) changed = true;
    meta.annotations = ann;
    return changed;
  }

  /** Sets desired-replicas and max-replicas in `ann`; returns whether they changed. */
  private setReplicaAnnotations(ann: Record<string, string>): boolean {
    const desired = String(this.desired);
    const max = String(this.desired + maxSurge(this.d));
    const changed = ann[DESIRED_REPLICAS] !== desired || ann[MAX_REPLICAS] !== max;
    ann[DESIRED_REPLICAS] = desired;
    ann[MAX_REPLICAS] = max;
    return changed;
  }

  private setRevision(revision: string): void {
    const ann = annotationsAt(this.d);
    if (ann[REVISION] === revision) return;
    ann[REVISION] = revision;
    mutObj(this.d, 'metadata').annotations = ann;
  }

  /** How many replicas the new ReplicaSet may have now. */
  private newReplicas(all: JsonObject[], newRs: JsonObject): number {
    if (isRecreate(this.d)) return this.desired;
    const surge = scaledValue(
      objAt(objAt(specAt(this.d).strategy).rollingUpdate).maxSurge ?? '25%',
      this.desired,
      true,
    );
    const current = sum(all, rsReplicas);
    const maxTotal = this.desired + surge;
    if (current >= maxTotal) return rsReplicas(newRs);
    return rsReplicas(newRs) + Math.min(maxTotal - current, this.desired - rsReplicas(newRs));
  }

  // ----------------------------------------------------------------- scaling

  /** Scales `rs` to `size`, refreshing its replica annotations; returns whether the size changed. */
  private scaleTo(rs: JsonObject, size: number): boolean {
    const sizeChanges = rsReplicas(rs) !== size;
    const ann = annotationsAt(rs);
    const annotationsChange = this.setReplicaAnnotations({ ...ann });
    if (!sizeChanges && !annotationsChange) return false;
    const copy = clone(rs);
    mutObj(copy, 'spec').replicas = size;
    const nextAnn = annotationsAt(copy);
    this.setReplicaAnnotations(nextAnn);
    mutObj(copy, 'metadata').annotations = nextAnn;
    this.record('update', copy);
    return sizeChanges;
  }

  /** scaleTo, but a no-op (annotations untouched) when the size is already right. */
  private scaleIfNeeded(rs: JsonObject, size: number): boolean {
    if (rsReplicas(rs) === size) return false;
    return this.scaleTo(rs, size);
  }

  private isScalingEvent(): boolean {
    const newName = this.newReplicaSet(false);
    if (newName === undefined) return false;
    return active(this.all()).some((rs) => {
      const desired = intAnnotation(rs, DESIRED_REPLICAS);
      return desired !== undefined && desired !== this.desired;
    });
  }

  /** Paused Deployments and scaling events: resize without rolling, then plain status. */
  private syncScale(): void {
    const newName = this.newReplicaSet(false);
    this.scale(newName);
    if (specAt(this.d).paused === true) this.cleanup(this.olds(newName));
    this.syncStatus(newName);
  }

  private scale(newName: string | undefined): void {
    const newRs = this.get(newName);
    const olds = this.olds(newName);
    const latest = this.activeOrLatest(newRs, olds);
    if (latest) {
      if (rsReplicas(latest) !== this.desired) this.scaleIfNeeded(latest, this.desired);
      return;
    }
    if (this.isSaturated(newRs)) {
      for (const old of active(olds)) this.scaleIfNeeded(old, 0);
      return;
    }
    if (isRecreate(this.d)) return;
    const sets = active([...olds, newRs]);
    const allowed = this.desired > 0 ? this.desired + maxSurge(this.d) : 0;
    const toAdd = allowed - sum(sets, rsReplicas);
    const bySize = (olderFirst: boolean) => (a: JsonObject, b: JsonObject) => {
      if (rsReplicas(a) !== rsReplicas(b)) return rsReplicas(b) - rsReplicas(a);
      return olderFirst ? this.byCreation(a, b) : this.byCreation(b, a);
    };
    if (toAdd > 0) sets.sort(bySize(false));
    else if (toAdd < 0) sets.sort(bySize(true));
    const sizes = new Map<string, number>();
    let added = 0;
    for (const rs of sets) {
      if (toAdd === 0) {
        sizes.set(nameAt(rs), rsReplicas(rs));
        continue;
      }
      const p = this.proportion(rs, toAdd, added);
      sizes.set(nameAt(rs), rsReplicas(rs) + p);
      added += p;
    }
    sets.forEach((rs, i) => {
      let size = sizes.get(nameAt(rs)) ?? rsReplicas(rs);
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      this.scaleTo(rs, size);
    });
  }

  /** This ReplicaSet's share of `toAdd` replicas, by its size relative to its max-replicas annotation. */
  private proportion(rs: JsonObject, toAdd: number, added: number): number {
    if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (this.desired === 0) fraction = -rsReplicas(rs);
    else {
      const target = this.desired + maxSurge(this.d);
      const annotated = intAnnotation(rs, MAX_REPLICAS) ?? numAt(statusAt(this.input.deployment).replicas);
      fraction = annotated > 0 ? roundHalfAway((rsReplicas(rs) * target) / annotated) - rsReplicas(rs) : 0;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  private activeOrLatest(newRs: JsonObject | undefined, olds: JsonObject[]): JsonObject | undefined {
    if (!newRs && olds.length === 0) return undefined;
    const newestFirst = [...olds].sort((a, b) => this.byCreation(b, a));
    const act = active([...newestFirst, newRs]);
    if (act.length === 0) return newRs ?? newestFirst[0];
    return act.length === 1 ? act[0] : undefined;
  }

  private isSaturated(rs: JsonObject | undefined): boolean {
    if (!rs) return false;
    return (
      rsReplicas(rs) === this.desired &&
      intAnnotation(rs, DESIRED_REPLICAS) === this.desired &&
      stat(rs, 'availableReplicas') === this.desired
    );
  }

  // ----------------------------------------------------------------- strategies

  private rolloutRolling(): void {
    const newName = this.newReplicaSet(true);
    if (this.reconcileNew(newName) || this.reconcileOld(newName)) {
      this.syncRolloutStatus(newName);
      return;
    }
    if (deploymentComplete(this.d, this.status)) this.cleanup(this.olds(newName));
    this.syncRolloutStatus(newName);
  }

  private reconcileNew(newName: string | undefined): boolean {
    const rs = this.get(newName);
    if (!rs) return false;
    if (rsReplicas(rs) === this.desired) return false;
    if (rsReplicas(rs) > this.desired) return this.scaleIfNeeded(rs, this.desired);
    return this.scaleIfNeeded(rs, this.newReplicas(this.all(), rs));
  }

  private reconcileOld(newName: string | undefined): boolean {
    const newRs = this.get(newName);
    const activeOlds = active(this.olds(newName));
    if (sum(activeOlds, rsReplicas) === 0) return false;
    const allPods = sum(this.all(), rsReplicas);
    const minAvailable = this.desired - maxUnavailable(this.d);
    const newUnavailable = newRs ? rsReplicas(newRs) - stat(newRs, 'availableReplicas') : 0;
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas go first, or they would block the rollout.
    let cleaned = 0;
    for (const rs of [...activeOlds].sort((a, b) => this.byCreation(a, b))) {
      if (cleaned >= maxScaledDown) break;
      const cur = this.sets.get(nameAt(rs)) ?? rs;
      const replicas = rsReplicas(cur);
      const available = stat(cur, 'availableReplicas');
      if (replicas === 0 || replicas === available) continue;
      const down = Math.min(maxScaledDown - cleaned, replicas - available);
      this.scaleIfNeeded(cur, replicas - down);
      cleaned += down;
    }
    const olds = activeOlds.map((rs) => this.sets.get(nameAt(rs)) ?? rs);
    const available = sum([...olds, ...(newRs ? [newRs] : [])], (rs) => stat(rs, 'availableReplicas'));
    let scaled = 0;
    if (available > minAvailable) {
      const budget = available - minAvailable;
      for (const rs of [...olds].sort((a, b) => this.byCreation(a, b))) {
        if (scaled >= budget) break;
        const cur = this.sets.get(nameAt(rs)) ?? rs;
        const replicas = rsReplicas(cur);
        if (replicas === 0) continue;
        const down = Math.min(replicas, budget - scaled);
        this.scaleIfNeeded(cur, replicas - down);
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  private rolloutRecreate(): void {
    let newName = this.newReplicaSet(false);
    const olds = this.olds(newName);
    let scaledDown = false;
    for (const rs of active(olds)) if (this.scaleIfNeeded(rs, 0)) scaledDown = true;
    if (scaledDown || this.oldPodsRunning(newName, olds)) {
      this.syncRolloutStatus(newName);
      return;
    }
    newName ??= this.newReplicaSet(true);
    const newRs = this.get(newName);
    if (newRs) this.scaleIfNeeded(newRs, this.desired);
    if (deploymentComplete(this.d, this.status)) this.cleanup(this.olds(newName));
    this.syncRolloutStatus(newName);
  }

  private oldPodsRunning(newName: string | undefined, olds: JsonObject[]): boolean {
    if (sum(olds, (rs) => stat(rs, 'replicas')) > 0) return true;
    const newUid = uidAt(this.get(newName) ?? {});
    const uids = new Set(
      this.all()
        .map(uidAt)
        .filter((u) => u !== '' && u !== newUid),
    );
    const selector = objAt(specAt(this.d).selector);
    return this.input.pods.some((pod) => {
      if (!selectorMatches(selector, labelsAt(pod))) return false;
      if (!uids.has(strAt(controllerOf(pod)?.uid))) return false;
      const phase = strAt(statusAt(pod).phase);
      return phase !== 'Failed' && phase !== 'Succeeded';
    });
  }

  /** Deletes the oldest unused ReplicaSets beyond revisionHistoryLimit. */
  private cleanup(olds: JsonObject[]): void {
    const limit = specAt(this.d).revisionHistoryLimit;
    if (typeof limit !== 'number' || limit === MAX_INT32) return;
    const alive = olds.filter((rs) => !isDeleting(rs));
    const excess = alive.length - limit;
    if (excess <= 0) return;
    alive.sort((a, b) => revisionOf(a) - revisionOf(b) || this.byCreation(a, b));
    for (const rs of alive.slice(0, excess)) {
      const cur = this.sets.get(nameAt(rs)) ?? rs;
      if (stat(cur, 'replicas') !== 0 || rsReplicas(cur) !== 0) continue;
      if (numAt(metaAt(cur).generation) > stat(cur, 'observedGeneration')) continue;
      if (this.writes.get(nameAt(cur))?.op === 'create') continue;
      this.writes.set(nameAt(cur), { op: 'delete', rs: cur });
    }
  }

  // ----------------------------------------------------------------- status

  private checkPausedConditions(): void {
    if (!hasProgressDeadline(this.d)) return;
    const cond = condition(this.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedShown = cond?.reason === 'DeploymentPaused';
    const paused = specAt(this.d).paused === true;
    if (paused && !pausedShown) {
      setCondition(
        this.status,
        newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', this.now),
      );
    } else if (!paused && pausedShown) {
      setCondition(
        this.status,
        newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', this.now),
      );
    }
  }

  /** Counts from the ReplicaSets, the Available condition, and the conditions carried over. */
  private calculateStatus(newName: string | undefined): JsonObject {
    const sets = this.all();
    const newRs = this.get(newName);
    const available = sum(sets, (rs) => stat(rs, 'availableReplicas'));
    const unavailable = Math.max(0, sum(sets, rsReplicas) - available);
    const out: JsonObject = {};
    const put = (k: string, v: number): void => {
      if (v !== 0) out[k] = v;
    };
    put('observedGeneration', numAt(metaAt(this.d).generation));
    put(
      'replicas',
      sum(sets, (rs) => stat(rs, 'replicas')),
    );
    put('updatedReplicas', newRs ? stat(newRs, 'replicas') : 0);
    put(
      'readyReplicas',
      sum(sets, (rs) => stat(rs, 'readyReplicas')),
    );
    put('availableReplicas', available);
    put('unavailableReplicas', unavailable);
    const conditions = listAt(this.status.conditions).map((c) => clone(c));
    if (conditions.length > 0) out.conditions = conditions;
    const collisions = this.collisionCount();
    if (collisions !== undefined) out.collisionCount = collisions;
    if (available >= this.desired - maxUnavailable(this.d)) {
      const c = newCondition(
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
        this.now,
      );
      setCondition(out, c);
    } else {
      const msg = 'Deployment does not have minimum availability.';
      setCondition(out, newCondition('Available', 'False', 'MinimumReplicasUnavailable', msg, this.now));
    }
    return out;
  }

  private syncStatus(newName: string | undefined): void {
    const next = this.calculateStatus(newName);
    if (!isDeepStrictEqual(next, this.status)) this.d.status = next;
  }

  private syncRolloutStatus(newName: string | undefined): void {
    this.checkedProgress = true;
    const next = this.calculateStatus(newName);
    const hasDeadline = hasProgressDeadline(this.d);
    if (!hasDeadline) removeCondition(next, 'Progressing');
    const current = condition(this.status, 'Progressing');
    const subject = newName !== undefined ? `ReplicaSet "${newName}"` : `Deployment "${nameAt(this.d)}"`;
    const complete =
      numAt(next.replicas) === numAt(next.updatedReplicas) && current?.reason === 'NewReplicaSetAvailable';
    if (hasDeadline && !complete) {
      if (deploymentComplete(this.d, next)) {
        const msg = `${subject} has successfully progressed.`;
        setCondition(next, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', msg, this.now));
      } else if (deploymentProgressing(this.status, next)) {
        const c = newCondition(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `${subject} is progressing.`,
          this.now,
        );
        if (current) {
          if (current.status === 'True') c.lastTransitionTime = current.lastTransitionTime ?? null;
          removeCondition(next, 'Progressing');
        }
        setCondition(next, c);
      } else if (this.timedOut(next)) {
        const msg = `${subject} has timed out progressing.`;
        setCondition(next, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', msg, this.now));
      }
    }
    const failure = this.replicaFailure(newName);
    if (failure) setCondition(next, failure);
    else removeCondition(next, 'ReplicaFailure');
    if (!isDeepStrictEqual(next, this.status)) this.d.status = next;
  }

  private timedOut(status: JsonObject): boolean {
    const cond = condition(status, 'Progressing');
    if (!cond || cond.reason === 'NewReplicaSetAvailable') return false;
    if (cond.reason === 'ProgressDeadlineExceeded') return true;
    const from = timeMs(cond.lastUpdateTime);
    if (from === undefined) return false;
    return from + numAt(specAt(this.d).progressDeadlineSeconds) * 1000 < this.input.nowMs;
  }

  /** A ReplicaFailure of the new ReplicaSet (or else of any), as a Deployment condition. */
  private replicaFailure(newName: string | undefined): JsonObject | undefined {
    const fromRs = (rs: JsonObject | undefined): JsonObject | undefined => {
      const c = rs ? listAt(statusAt(rs).conditions).find((x) => x.type === 'ReplicaFailure') : undefined;
      if (!c) return undefined;
      return {
        type: 'ReplicaFailure',
        status: c.status ?? null,
        lastUpdateTime: c.lastTransitionTime ?? null,
        lastTransitionTime: c.lastTransitionTime ?? null,
        reason: c.reason ?? null,
        message: c.message ?? null,
      };
    };
    const own = fromRs(this.get(newName));
    if (own) return own;
    for (const rs of this.all()) {
      const c = fromRs(rs);
      if (c) return c;
    }
    return undefined;
  }
}

/** What the Deployment controller would do now for this Deployment. */
export function planDeployment(input: DeploymentInput): DeploymentPlan {
  return new DeploymentSync(input).run();
}

/** The Deployment status after a failed ReplicaSet creation (Progressing False, ReplicaSetCreateError). */
export function replicaSetCreateFailed(
  deployment: JsonObject,
  rsName: string,
  message: string,
  nowMs: number,
): JsonObject {
  const status = clone(statusAt(deployment));
  if (!hasProgressDeadline(deployment)) return status;
  const msg = `Failed to create new replica set "${rsName}": ${message}`;
  setCondition(status, newCondition('Progressing', 'False', 'ReplicaSetCreateError', msg, timestamp(nowMs)));
  return status;
}

/** The Deployment status after a pod-template-hash collision: collisionCount raised by one. */
export function withCollision(deployment: JsonObject): JsonObject {
  const status = clone(statusAt(deployment));
  status.collisionCount = numAt(status.collisionCount) + 1;
  return status;
}
