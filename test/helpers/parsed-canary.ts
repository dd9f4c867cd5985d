// Test helper: creates a Canary on the sandbox API server and returns it parsed and defaulted (with its real
// uid), as the workload layer receives it from reconcile.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Canary } from '../../crds/schema/flagger.js';
import { parseCanary } from '../../operator/validate.js';
import { apply, canariesPath } from './canaries.js';

export async function createParsedCanary(
  kc: KubeConfig,
  manifest: { metadata: object; spec: Record<string, unknown> },
): Promise<Canary> {
  const ns = (manifest.metadata as { namespace?: string }).namespace ?? 'default';
  const res = await apply(kc, canariesPath(ns), manifest);
  if (res.status !== 201)
    throw new Error(`creating the Canary: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  const parsed = parseCanary(res.body);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}
