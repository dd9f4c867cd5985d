// ReplicaSet controller core: which pods a ReplicaSet claims, creates and deletes, and the status
// kube-controller-manager v1.26 writes for it. Pure; the clock is an argument.
import type { JsonObject } from '../types.js';
import { clone } from '../types.js';
import {
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
  selectorMatches,
  specAt,
  statusAt,
  strAt,
  uidAt,
} from './objects.js';
import { deletionOrder, isActive, isAvailable, isReady, readySinceMs } from './pods.js';

/** kube's cap on pods created or deleted by one sync. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetPlan {
  /** Orphan pods matching the selector, to take ownership of. */
  adopt: JsonObject[];
  /** Owned pods that no longer match the selector, to let go of. */
  release: JsonObject[];
  /** Active pods the ReplicaSet counts (already owned or being adopted). */
  owned: JsonObject[];
  /** How many pods to create from the template. */
  create: number;
  /** Pods to delete, in the order kube picks them. */
  remove: JsonObject[];
}

export const desiredReplicas = (rs: JsonObject): number => numAt(specAt(rs).replicas, 1);
export const minReadySecondsOf = (o: JsonObject): number => numAt(specAt(o).minReadySeconds);

/** Splits the namespace's pods into those the ReplicaSet owns, adopts and releases, and sizes the difference. */
export function planReplicaSet(rs: JsonObject, namespacePods: JsonObject[]): ReplicaSetPlan {
  const uid = uidAt(rs);
  const selector = objAt(specAt(rs).selector);
  const deleting = isDeleting(rs);
  const plan: ReplicaSetPlan = { adopt: [], release: [], owned: [], create: 0, remove: [] };
  for (const pod of namespacePods) {
    if (!isActive(pod)) continue;
    const matches = selectorMatches(selector, labelsAt(pod));
    const ref = controllerOf(pod);
    if (ref) {
      if (strAt(ref.uid) !== uid) continue;
      if (matches) plan.owned.push(pod);
      else if (!deleting) plan.release.push(pod);
      continue;
    }
    if (deleting || !matches) continue;
    plan.adopt.push(pod);
    plan.owned.push(pod);
  }
  if (deleting) return plan;
  const diff = plan.owned.length - desiredReplicas(rs);
  if (diff < 0) plan.create = Math.min(-diff, BURST_REPLICAS);
  else if (diff > 0) plan.remove = deletionOrder(plan.owned).slice(0, Math.min(diff, BURST_REPLICAS));
  return plan;
}

/** The pod a ReplicaSet creates: template labels, annotations, finalizers and spec, named `<rs>-<random>`. */
export function podFromTemplate(rs: JsonObject): JsonObject {
  const template = objAt(specAt(rs).template);
  const tmeta = objAt(template.metadata);
  const meta: JsonObject = { generateName: `${nameAt(rs)}-`, namespace: namespaceAt(rs) };
  if (Object.keys(objAt(tmeta.labels)).length > 0) meta.labels = clone(objAt(tmeta.labels));
  if (Object.keys(objAt(tmeta.annotations)).length > 0) meta.annotations = clone(objAt(tmeta.annotations));
  const finalizers = Array.isArray(tmeta.finalizers)
    ? tmeta.finalizers.filter((f) => typeof f === 'string')
    : [];
  if (finalizers.length > 0) meta.finalizers = finalizers;
  meta.ownerReferences = [controllerRef(rs, 'apps/v1', 'ReplicaSet')];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: clone(objAt(template.spec)) };
}

/** The pod with `ownerRef` added (adoption) or the reference to `releaseUid` removed (release). */
export function withOwner(pod: JsonObject, change: { add: JsonObject } | { releaseUid: string }): JsonObject {
  const next = clone(pod);
  const meta = mutObj(next, 'metadata');
  const refs = listAt(meta.ownerReferences);
  const out =
    'add' in change ? [...refs, change.add] : refs.filter((r) => strAt(r.uid) !== change.releaseUid);
  if (out.length > 0) meta.ownerReferences = out;
  else delete meta.ownerReferences;
  return next;
}

export interface ManageFailure {
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

export interface ReplicaSetStatusResult {
  status: JsonObject;
  /** When a ready pod becomes available (minReadySeconds), sync again after this long. */
  requeueAfterMs?: number;
}

/**
 * The ReplicaSet's status from the pods it counted before this sync's creations and deletions
 * (as kube does: the next pod event brings the counts up to date).
 */
export function replicaSetStatus(
  rs: JsonObject,
  owned: JsonObject[],
  failure: ManageFailure | undefined,
  nowMs: number,
  nowTime: string,
): ReplicaSetStatusResult {
  const minReady = minReadySecondsOf(rs);
  const templateLabels = labelsAt(objAt(specAt(rs).template));
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  let nextAvailableMs: number | undefined;
  for (const pod of owned) {
    const labels = labelsAt(pod);
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (!isReady(pod)) continue;
    ready++;
    if (isAvailable(pod, minReady, nowMs)) available++;
    else {
      const since = readySinceMs(pod) ?? nowMs;
      const at = since + minReady * 1000 + 1;
      nextAvailableMs = nextAvailableMs === undefined ? at : Math.min(nextAvailableMs, at);
    }
  }
  let conditions = listAt(statusAt(rs).conditions).map((c) => clone(c));
  const hasFailure = conditions.some((c) => c.type === 'ReplicaFailure');
  if (failure && !hasFailure) {
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: nowTime,
      reason: failure.reason,
      message: failure.message,
    });
  } else if (!failure && hasFailure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: JsonObject = { replicas: owned.length };
  if (fullyLabeled > 0) status.fullyLabeledReplicas = fullyLabeled;
  if (ready > 0) status.readyReplicas = ready;
  if (available > 0) status.availableReplicas = available;
  const generation = numAt(metaAt(rs).generation);
  if (generation > 0) status.observedGeneration = generation;
  if (conditions.length > 0) status.conditions = conditions;
  const result: ReplicaSetStatusResult = { status };
  if (nextAvailableMs !== undefined) result.requeueAfterMs = Math.max(0, nextAvailableMs - nowMs);
  return result;
}
