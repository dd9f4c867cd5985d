// Pure: a pod's status (phase, conditions, container statuses) from what its containers are doing,
// keeping condition transition times stable while a condition does not change. The result is plain
// JSON (times as RFC 3339 seconds), ready to be sent as a status patch.
import type { V1PodStatus } from '@kubernetes/client-node';
import type { JsonObject } from '../apiserver/types.js';

/** metav1.Time: RFC 3339 with whole seconds. */
export const rfc3339 = (d: Date): string =>
  new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

interface Terminated {
  exitCode: number;
  reason: string;
  startedAt?: Date;
  finishedAt: Date;
  signal?: number;
}

function terminatedJson(t: Terminated): JsonObject {
  const out: JsonObject = { exitCode: t.exitCode, reason: t.reason, finishedAt: rfc3339(t.finishedAt) };
  if (t.startedAt) out.startedAt = rfc3339(t.startedAt);
  if (t.signal !== undefined) out.signal = t.signal;
  return out;
}

export interface ContainerView {
  name: string;
  image: string;
  restartCount: number;
  ready: boolean;
  started: boolean;
  /** Present while a process runs (or, for a virtual container, from its start). */
  runningSince?: Date;
  waiting?: { reason: string; message?: string };
  terminated?: Terminated;
  lastTerminated?: Terminated;
  containerID?: string;
}

export interface PodView {
  restartPolicy: string;
  podIP?: string;
  hostIP: string;
  startTime?: Date;
  containers: ContainerView[];
  /** Set when a probe spec is invalid: the Ready condition says why. */
  invalidProbe?: string;
  /** Shown in status.message (virtual pods say so). */
  message?: string;
  previous?: V1PodStatus;
}

function condition(
  type: string,
  ok: boolean,
  now: Date,
  previous: V1PodStatus['conditions'],
  reason?: string,
  message?: string,
): JsonObject {
  const status = ok ? 'True' : 'False';
  const prev = previous?.find((c) => c.type === type);
  const since =
    prev && prev.status === status && prev.lastTransitionTime ? new Date(prev.lastTransitionTime) : now;
  const c: JsonObject = { type, status, lastProbeTime: null, lastTransitionTime: rfc3339(since) };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

function containerStatus(c: ContainerView): JsonObject {
  let state: JsonObject;
  if (c.runningSince) state = { running: { startedAt: rfc3339(c.runningSince) } };
  else if (c.terminated) state = { terminated: terminatedJson(c.terminated) };
  else
    state = {
      waiting: {
        reason: c.waiting?.reason ?? 'ContainerCreating',
        ...(c.waiting?.message ? { message: c.waiting.message } : {}),
      },
    };
  const s: JsonObject = {
    name: c.name,
    state,
    lastState: c.lastTerminated ? { terminated: terminatedJson(c.lastTerminated) } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: `sandbox://${c.image}`,
    started: c.started,
  };
  if (c.containerID) s.containerID = c.containerID;
  return s;
}

/** Phase as the kubelet derives it from container states and the restart policy. */
export function podPhase(view: PodView): string {
  const cs = view.containers;
  if (cs.length === 0) return 'Pending';
  const running = cs.filter((c) => c.runningSince !== undefined).length;
  const terminated = cs.filter((c) => c.terminated !== undefined && c.runningSince === undefined);
  if (view.restartPolicy === 'Always') {
    if (running > 0 || cs.some((c) => c.restartCount > 0 || c.lastTerminated)) return 'Running';
    return 'Pending';
  }
  if (terminated.length === cs.length) {
    const failed = terminated.some((c) => (c.terminated?.exitCode ?? 0) !== 0);
    if (!failed) return 'Succeeded';
    return view.restartPolicy === 'Never' ? 'Failed' : 'Running';
  }
  return running > 0 ? 'Running' : 'Pending';
}

export function podStatus(view: PodView, now: Date): JsonObject {
  const prevConds = view.previous?.conditions;
  const allReady = view.containers.length > 0 && view.containers.every((c) => c.ready);
  const notReady = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const reason = view.invalidProbe ? 'InvalidProbe' : 'ContainersNotReady';
  const message = view.invalidProbe ?? `containers with unready status: [${notReady.join(' ')}]`;
  const status: JsonObject = {
    phase: podPhase(view),
    conditions: [
      condition('Initialized', true, now, prevConds),
      condition('Ready', allReady, now, prevConds, reason, message),
      condition('ContainersReady', allReady, now, prevConds, reason, message),
      condition('PodScheduled', true, now, prevConds),
    ],
    hostIP: view.hostIP,
    containerStatuses: view.containers.map(containerStatus),
  };
  if (view.podIP) {
    status.podIP = view.podIP;
    status.podIPs = [{ ip: view.podIP }];
  }
  if (view.startTime) status.startTime = rfc3339(view.startTime);
  if (view.message) status.message = view.message;
  if (view.previous?.qosClass) status.qosClass = view.previous.qosClass;
  return status;
}
