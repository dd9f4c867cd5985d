// The primary's HorizontalPodAutoscaler (spec.autoscalerRef, autoscaling/v2): `<hpa>-primary` built from the
// target's HPA (pure), created at bootstrap and brought up to date at promotion, as Flagger does.
import type { KubeConfig, V1OwnerReference, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Canary } from '../crds/schema/flagger.js';
import type { Outcome } from './k8s/client.js';
import { KubeResource, resourceAt, canonicalJson, failureProblem } from './k8s/client.js';

const HPA_FIELD = 'spec.autoscalerRef.name';

export const primaryHpaName = (hpaName: string): string => `${hpaName}-primary`;

/** The target's HPA's min, or 1 when it has none (Kubernetes' default). */
export const hpaMinReplicas = (hpa: V2HorizontalPodAutoscaler): number => hpa.spec?.minReplicas ?? 1;

/**
 * `<hpa>-primary`: the target HPA's min/max, metrics and behavior, scaling `primaryName`;
 * autoscalerRef.primaryScalerReplicas overrides min and max where set. Labels copied, owned by the Canary.
 */
export function buildPrimaryHpa(
  canary: Canary,
  hpa: V2HorizontalPodAutoscaler,
  primaryName: string,
  owner: V1OwnerReference,
): V2HorizontalPodAutoscaler {
  const override = canary.spec.autoscalerRef?.primaryScalerReplicas;
  const spec = hpa.spec;
  const minReplicas = override?.minReplicas ?? spec?.minReplicas;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: primaryHpaName(hpa.metadata?.name ?? ''),
      namespace: canary.metadata.namespace,
      ...(hpa.metadata?.labels ? { labels: { ...hpa.metadata.labels } } : {}),
      ownerReferences: [owner],
    },
    spec: {
      scaleTargetRef: {
        apiVersion: spec?.scaleTargetRef.apiVersion ?? 'apps/v1',
        kind: spec?.scaleTargetRef.kind ?? 'Deployment',
        name: primaryName,
      },
      ...(minReplicas !== undefined ? { minReplicas } : {}),
      maxReplicas: override?.maxReplicas ?? spec?.maxReplicas ?? 1,
      ...(spec?.metrics ? { metrics: structuredClone(spec.metrics) } : {}),
      ...(spec?.behavior ? { behavior: structuredClone(spec.behavior) } : {}),
    },
  };
}

/** The primary's replicas at bootstrap when an HPA is used: the primary HPA's min (≥ 1). */
export function primaryHpaMin(primaryHpa: V2HorizontalPodAutoscaler): number {
  return Math.max(1, primaryHpa.spec?.minReplicas ?? 1);
}

/** The existing primary HPA with `desired`'s spec and labels; null when nothing differs. */
export function updatedPrimaryHpa(
  existing: V2HorizontalPodAutoscaler,
  desired: V2HorizontalPodAutoscaler,
): V2HorizontalPodAutoscaler | null {
  const view = (h: V2HorizontalPodAutoscaler) => ({
    spec: { ...h.spec, minReplicas: h.spec?.minReplicas ?? 1 },
    labels: h.metadata?.labels ?? {},
  });
  if (canonicalJson(view(existing)) === canonicalJson(view(desired))) return null;
  return {
    ...existing,
    metadata: { ...existing.metadata, labels: { ...desired.metadata?.labels } },
    spec: structuredClone(desired.spec),
  };
}

export function horizontalPodAutoscalers(
  kc: KubeConfig,
  timeoutMs?: number,
): KubeResource<V2HorizontalPodAutoscaler> {
  return new KubeResource<V2HorizontalPodAutoscaler>(
    kc,
    'HorizontalPodAutoscaler',
    resourceAt('autoscaling/v2', 'horizontalpodautoscalers'),
    timeoutMs,
  );
}

/**
 * Reads the target's HPA and writes the primary's. The target's HPA itself is never changed: while a run is
 * on it scales the canary, and scaling the target to zero leaves it alone (an HPA does not act on a workload
 * at zero replicas; Flagger's HPA reconciler does the same).
 */
export class PrimaryAutoscaler {
  private readonly hpas: KubeResource<V2HorizontalPodAutoscaler>;

  constructor(kc: KubeConfig, timeoutMs?: number) {
    this.hpas = horizontalPodAutoscalers(kc, timeoutMs);
  }

  /** The target's HPA named by spec.autoscalerRef; null when the Canary has none. */
  async target(canary: Canary): Promise<Outcome<V2HorizontalPodAutoscaler | null>> {
    const ref = canary.spec.autoscalerRef;
    if (!ref) return { ok: true, value: null };
    const got = await this.hpas.get(canary.metadata.namespace, ref.name);
    if (!got.ok) return failureProblem(got, HPA_FIELD, `reading HorizontalPodAutoscaler ${ref.name}`);
    if (got.value === null)
      return {
        ok: false,
        field: HPA_FIELD,
        message: `HorizontalPodAutoscaler ${JSON.stringify(ref.name)} not found in namespace ${JSON.stringify(canary.metadata.namespace)}`,
      };
    return { ok: true, value: got.value };
  }

  /**
   * Creates (`create`: only when missing, as at bootstrap) or brings up to date (`sync`: promotion) the
   * primary HPA built from `hpa`. Returns whether it was created.
   */
  async write(desired: V2HorizontalPodAutoscaler, mode: 'create' | 'sync'): Promise<Outcome<boolean>> {
    const name = desired.metadata?.name ?? '';
    const r =
      mode === 'create'
        ? await this.hpas.createIfMissing(desired)
        : await this.hpas.ensure(desired, (current) => updatedPrimaryHpa(current, desired));
    if (!r.ok) return failureProblem(r, HPA_FIELD, `writing HorizontalPodAutoscaler ${name}`);
    return { ok: true, value: r.value.created };
  }
}
