// settleStep(): the loop between step() and the shell's gatherers: answer each gather request, call step()
// again, until it decides. No I/O of its own; what it awaits is what the caller passes in.
import type { Verdict } from '../../analysis/types.js';
import type { Action } from './actions.js';
import { step } from './step.js';
import type { CanaryStatus, GatingWebhookType, Observations, StepInput, WebhookOutcome } from './types.js';

export interface Gatherers {
  /** Runs every webhook of the type (spec order) and reports each; never rejects for a failing webhook. */
  runWebhooks(type: GatingWebhookType): Promise<WebhookOutcome[]>;
  /** Evaluates every metric of the analysis; never rejects for a failing metric. */
  runMetrics(): Promise<Verdict[]>;
}

export interface Settled {
  status: CanaryStatus;
  actions: Action[];
  /** The observations with everything gathered this tick (for logs and tests). */
  observations: Observations;
}

/** More rounds than there are things to gather (six gating webhook types and the metrics) means a bug. */
const MAX_ROUNDS = 8;

export async function settleStep(input: StepInput, gather: Gatherers): Promise<Settled> {
  let observations = input.observations;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = step({ ...input, observations });
    if (result.kind === 'decided') return { status: result.status, actions: result.actions, observations };
    const request = result.request;
    if (request.type === 'runMetrics') {
      if (observations.verdicts !== undefined) throw new Error('step() asked for metrics it already has');
      observations = { ...observations, verdicts: await gather.runMetrics() };
    } else {
      if (observations.webhooks?.[request.webhookType] !== undefined) {
        throw new Error(`step() asked again for ${request.webhookType} webhooks`);
      }
      const outcomes = await gather.runWebhooks(request.webhookType);
      observations = {
        ...observations,
        webhooks: { ...observations.webhooks, [request.webhookType]: outcomes },
      };
    }
  }
  throw new Error(`step() did not decide after ${MAX_ROUNDS} rounds`);
}
