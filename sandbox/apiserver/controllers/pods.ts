// Pod predicates the workload controllers share: active, ready, available (minReadySeconds),
// included in endpoints, and kube's order for choosing which pods a ReplicaSet deletes first.
import type { JsonObject } from '../types.js';
import {
  annotationsAt,
  isDeleting,
  listAt,
  metaAt,
  nameAt,
  numAt,
  specAt,
  statusAt,
  strAt,
  timeMs,
} from './objects.js';

export const phaseOf = (pod: JsonObject): string => strAt(statusAt(pod).phase);

/** Succeeded or Failed: the pod will never run again. */
export const isTerminal = (pod: JsonObject): boolean => ['Succeeded', 'Failed'].includes(phaseOf(pod));

/** Counted by a ReplicaSet: not terminal and not being deleted. */
export const isActive = (pod: JsonObject): boolean => !isTerminal(pod) && !isDeleting(pod);

const readyCondition = (pod: JsonObject): JsonObject | undefined =>
  listAt(statusAt(pod).conditions).find((c) => c.type === 'Ready');

export const isReady = (pod: JsonObject): boolean => readyCondition(pod)?.status === 'True';

/** When the Ready condition last changed (epoch ms), if known. */
export const readySinceMs = (pod: JsonObject): number | undefined =>
  timeMs(readyCondition(pod)?.lastTransitionTime);

/** Ready for more than minReadySeconds at `nowMs`. */
export function isAvailable(pod: JsonObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySinceMs(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** The pod's IPs, from status.podIPs or else status.podIP (the API server keeps them in step). */
export function podIps(pod: JsonObject): string[] {
  const status = statusAt(pod);
  const ips = listAt(status.podIPs)
    .map((p) => strAt(p.ip))
    .filter((ip) => ip !== '');
  if (ips.length > 0) return ips;
  const single = strAt(status.podIP);
  return single ? [single] : [];
}

/** Whether a pod belongs in a Service's endpoints at all (terminal pods and pods without an IP do not). */
export function belongsInEndpoints(pod: JsonObject, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (podIps(pod).length === 0) return false;
  if (!includeTerminating && isDeleting(pod)) return false;
  return true;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

const maxRestarts = (pod: JsonObject): number =>
  Math.max(0, ...listAt(statusAt(pod).containerStatuses).map((c) => numAt(c.restartCount)));

const deletionCost = (pod: JsonObject): number => {
  const raw = annotationsAt(pod)['controller.kubernetes.io/pod-deletion-cost'];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) ? n : 0;
};

/**
 * Orders pods so that the ones a ReplicaSet should delete first come first: unscheduled before
 * scheduled, Pending < Unknown < Running, not ready before ready, lower pod-deletion-cost first,
 * more pods on the same node first, ready more recently first, more restarts first, newer first.
 */
export function deletionOrder(pods: JsonObject[]): JsonObject[] {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = strAt(specAt(p).nodeName);
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: JsonObject): number => perNode.get(strAt(specAt(p).nodeName)) ?? 0;
  const created = (p: JsonObject): number => timeMs(metaAt(p).creationTimestamp) ?? 0;
  const before = (a: JsonObject, b: JsonObject): number => {
    const na = strAt(specAt(a).nodeName);
    const nb = strAt(specAt(b).nodeName);
    if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
    const pa = PHASE_ORDER[phaseOf(a)] ?? 0;
    const pb = PHASE_ORDER[phaseOf(b)] ?? 0;
    if (pa !== pb) return pa - pb;
    if (isReady(a) !== isReady(b)) return isReady(a) ? 1 : -1;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (isReady(a) && isReady(b)) {
      const ra = readySinceMs(a);
      const rb = readySinceMs(b);
      if (ra !== rb) {
        if (ra === undefined) return -1;
        if (rb === undefined) return 1;
        return rb - ra;
      }
    }
    if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
    if (created(a) !== created(b)) return created(b) - created(a);
    return nameAt(a) < nameAt(b) ? 1 : nameAt(a) > nameAt(b) ? -1 : 0;
  };
  return [...pods].sort(before);
}
