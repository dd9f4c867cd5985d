// Manual control of SPEC §3.6: the fledge.dev/{promote,abort,resume,retry} annotations on a Canary, read by the
// shell into Observations.manual and consumed by step(). Pure.

/** The requests, in the order step() considers them when several are set at once (abort wins). */
export const MANUAL_REQUESTS = ['abort', 'promote', 'resume', 'retry'] as const;
export type ManualRequest = (typeof MANUAL_REQUESTS)[number];

/** The only value that makes a request; any other is reported and cleared. */
export const MANUAL_VALUE = 'true';

export const manualAnnotation = (r: ManualRequest): string => `fledge.dev/${r}`;

/** Requests present on the Canary, with the raw annotation value (validated by step(), not here). */
export type ManualRequests = Partial<Record<ManualRequest, string>>;

/** The manual annotations among a Canary's annotations; empty when there are none. */
export function readManualRequests(
  annotations: Readonly<Record<string, string>> | undefined,
): ManualRequests {
  const out: ManualRequests = {};
  for (const r of MANUAL_REQUESTS) {
    const value = annotations?.[manualAnnotation(r)];
    if (value !== undefined) out[r] = value;
  }
  return out;
}
