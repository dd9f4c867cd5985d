// The `Promoted` condition of SPEC §3.5, derived from the phase: True when Initialized/Succeeded, False when
// Failed, Unknown otherwise; reason = phase. Pure; timestamps come from the caller's clock.
import type { CanaryCondition, CanaryPhase } from '../../crds/schema/flagger.js';

export const PROMOTED = 'Promoted';

export function promotedStatus(phase: CanaryPhase): CanaryCondition['status'] {
  if (phase === 'Initialized' || phase === 'Succeeded') return 'True';
  if (phase === 'Failed') return 'False';
  return 'Unknown';
}

/**
 * The conditions list with `Promoted` set for `phase`; other condition types are kept as they are.
 * lastTransitionTime changes only when the condition's status changes, lastUpdateTime when reason or message do.
 */
export function withPromotedCondition(
  conditions: readonly CanaryCondition[] | undefined,
  phase: CanaryPhase,
  message: string,
  nowIso: string,
): CanaryCondition[] {
  const reason = phase === '' ? 'Unknown' : phase;
  return withCondition(
    conditions,
    { type: PROMOTED, status: promotedStatus(phase), reason, message },
    nowIso,
  );
}

/**
 * The conditions list with one condition of `next.type` set (appended last) or, for `{remove: type}`, removed;
 * other types are kept. Timestamps move as for Promoted (see withPromotedCondition).
 */
export function withCondition(
  conditions: readonly CanaryCondition[] | undefined,
  next: Omit<CanaryCondition, 'lastTransitionTime' | 'lastUpdateTime'> | { remove: string },
  nowIso: string,
): CanaryCondition[] {
  const type = 'remove' in next ? next.remove : next.type;
  const others = (conditions ?? []).filter((c) => c.type !== type);
  if ('remove' in next) return others;
  const previous = conditions?.find((c) => c.type === type);
  const sameStatus = previous !== undefined && previous.status === next.status;
  const sameText = sameStatus && previous.reason === next.reason && previous.message === next.message;
  return [
    ...others,
    {
      ...next,
      lastTransitionTime: sameStatus ? (previous.lastTransitionTime ?? nowIso) : nowIso,
      lastUpdateTime: sameText ? (previous.lastUpdateTime ?? nowIso) : nowIso,
    },
  ];
}
