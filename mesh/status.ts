// Reports networking objects the mesh cannot serve as they are: an `Accepted` condition on the object's
// status (False naming every problem field, back to True once fixed) and a Warning Event, written only
// when what the object shows differs from what it should show.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { NetworkingKind, ObjectProblems } from './model.js';
import { makeApiClient } from '../operator/k8s/agent.js';

export const ACCEPTED = 'Accepted';

export interface EventSink {
  /** A Kubernetes Event on the object; never throws. */
  warn(
    obj: { kind: NetworkingKind; namespace: string; name: string; uid?: string },
    reason: string,
    message: string,
  ): void;
}

export interface StatusLogger {
  warn(obj: object, msg: string): void;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

type WithStatus = KubernetesObject & { status?: { conditions?: Condition[]; observedGeneration?: number } };

const PLURAL: Readonly<Record<NetworkingKind, string>> = {
  VirtualService: 'virtualservices',
  DestinationRule: 'destinationrules',
};

/** The Accepted condition an object with these problems (none: undefined problems) should show. Pure. */
export function acceptedCondition(p: ObjectProblems | undefined): Omit<Condition, 'lastTransitionTime'> {
  if (!p || p.problems.length === 0)
    return { type: ACCEPTED, status: 'True', reason: 'Accepted', message: 'served by the fledge mesh' };
  const serving =
    p.servedGeneration !== undefined
      ? `; generation ${p.servedGeneration} (the last good one) keeps serving`
      : '; not served';
  return {
    type: ACCEPTED,
    status: 'False',
    reason: p.problems[0]?.reason ?? 'Invalid',
    message: `generation ${p.generation} refused: ${p.problems.map((x) => x.message).join('; ')}${serving}`,
  };
}

export class MeshStatusWriter {
  private readonly api: CustomObjectsApi;
  /** Objects we reported as refused, so that a fix (or deletion) is noticed. */
  private readonly reported = new Set<string>();
  /** What we last wrote per object (the informer may not have seen our write yet). */
  private readonly written = new Map<string, string>();

  constructor(
    kc: KubeConfig,
    private readonly get: (
      kind: NetworkingKind,
      namespace: string,
      name: string,
    ) => KubernetesObject | undefined,
    /** The last good version served in place of a refused object (recorded in its status). */
    private readonly lastGoodOf: (
      kind: NetworkingKind,
      namespace: string,
      name: string,
    ) => { metadata?: { generation?: number }; spec?: unknown } | undefined,
    private readonly log: StatusLogger,
    private readonly events?: EventSink,
    private readonly timeoutMs = 10_000,
  ) {
    this.api = makeApiClient(kc, CustomObjectsApi);
  }

  /** Brings every object's condition in line with the build's problems (called after each build). */
  update(problems: readonly ObjectProblems[]): void {
    const now = new Set<string>();
    for (const p of problems) {
      const key = `${p.kind}/${p.namespace}/${p.name}`;
      now.add(key);
      this.sync(p.kind, p.namespace, p.name, p);
    }
    for (const key of [...this.reported]) {
      if (now.has(key)) continue;
      this.reported.delete(key);
      const [kind, namespace, name] = key.split('/') as [NetworkingKind, string, string];
      this.sync(kind, namespace, name, undefined);
    }
  }

  private sync(kind: NetworkingKind, namespace: string, name: string, p: ObjectProblems | undefined): void {
    const found = this.get(kind, namespace, name);
    if (!found) return;
    const obj: WithStatus = found;
    const want = acceptedCondition(p);
    const have = obj.status?.conditions?.find((c) => c.type === ACCEPTED);
    if (p) this.reported.add(`${kind}/${namespace}/${name}`);
    // Nothing to say about a healthy object that never showed a problem.
    if (!p && (!have || have.status === 'True')) return;
    if (have && have.status === want.status && have.reason === want.reason && have.message === want.message)
      return;
    const key = `${kind}/${namespace}/${name}`;
    const text = `${want.status}/${want.reason ?? ''}/${want.message ?? ''}`;
    if (this.written.get(key) === text) return;
    this.written.set(key, text);
    if (this.written.size > 10_000) this.written.delete(this.written.keys().next().value ?? '');
    const condition: Condition = {
      ...want,
      lastTransitionTime:
        have && have.status === want.status && have.lastTransitionTime
          ? have.lastTransitionTime
          : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    const others = (obj.status?.conditions ?? []).filter((c) => c.type !== ACCEPTED);
    const lastGood = p?.servedGeneration !== undefined ? this.lastGoodOf(kind, namespace, name) : undefined;
    const body = {
      status: {
        observedGeneration: obj.metadata?.generation ?? 0,
        conditions: [...others, condition],
        // Merge patch: null removes a recorded last good version once the object is accepted again.
        lastGood: lastGood ? { generation: lastGood.metadata?.generation ?? 0, spec: lastGood.spec } : null,
      },
    };
    if (p && want.message)
      this.events?.warn(
        { kind, namespace, name, ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}) },
        want.reason ?? 'Invalid',
        want.message,
      );
    const write = this.api.patchNamespacedCustomObjectStatus(
      {
        group: 'networking.istio.io',
        version: 'v1',
        namespace,
        plural: PLURAL[kind],
        name,
        body,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`status write timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      ).unref(),
    );
    Promise.race([write, timeout]).catch((err: unknown) =>
      this.log.warn(
        { kind, namespace, name, error: err instanceof Error ? err.message : String(err) },
        'could not write the Accepted condition',
      ),
    );
  }
}
