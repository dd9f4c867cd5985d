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
  const previous = conditions?.find((c) => c.type === PROMOTED);
  const status = promotedStatus(phase);
  const reason = phase === '' ? 'Unknown' : phase;
  const sameStatus = previous !== undefined && previous.status === status;
  const sameText = sameStatus && previous.reason === reason && previous.message === message;
  const promoted: CanaryCondition = {
    type: PROMOTED,
    status,
    reason,
    message,
    lastTransitionTime: sameStatus ? (previous.lastTransitionTime ?? nowIso) : nowIso,
    lastUpdateTime: sameText ? (previous.lastUpdateTime ?? nowIso) : nowIso,
  };
  return [...(conditions ?? []).filter((c) => c.type !== PROMOTED), promoted];
}
