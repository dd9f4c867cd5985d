// The tick's gatherers (scheduler Gatherers): evaluate a canary's metrics (built-in checks against the
// operator's metrics server, MetricTemplates against their provider) and call its gating webhooks. Never throw:
// every failure becomes a verdict or a webhook outcome that says why.
import { createHash } from 'node:crypto';
import { builtinQuery, isBuiltinCheck } from '../analysis/builtin.js';
import { parseGoDuration } from '../analysis/duration.js';
import { evaluate } from '../analysis/evaluate.js';
import { createProvider } from '../analysis/providers/provider.js';
import { renderTemplate } from '../analysis/template.js';
import type { MetricResult, MetricsProvider, ThresholdRange, Verdict } from '../analysis/types.js';
import type { WebhookCall } from '../analysis/webhooks.js';
import { callWebhook, validateWebhook } from '../analysis/webhooks.js';
import type { Canary, CanaryMetric, MetricTemplate } from '../crds/schema/flagger.js';
import type { GatingWebhookType, WebhookOutcome } from './scheduler/index.js';

export interface GatherDeps {
  /** The operator's default metrics server (`--metrics-server`), for built-in checks. */
  metricsServer: string;
  metricTemplate(namespace: string, name: string): MetricTemplate | undefined;
  /** Secret data (decoded) for a template's secretRef; undefined when it cannot be read. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Cache of providers by settings (so connections are reused); optional. */
  providerCache?: Map<string, MetricsProvider>;
  /** Per-query timeout (default 10 s). */
  queryTimeoutMs?: number;
}

/** The checksum webhooks receive: identifies the revision under analysis (lastAppliedSpec + tracked configs). */
export function webhookChecksum(canary: Canary): string {
  const s = canary.status ?? {};
  const configs = Object.entries(s.trackedConfigs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(`${s.lastAppliedSpec ?? ''}\n${JSON.stringify(configs)}`)
    .digest('hex')
    .slice(0, 16);
}

/** A metric's threshold: thresholdRange, or Flagger's deprecated `threshold` as max. */
function thresholdOf(m: CanaryMetric): ThresholdRange {
  if (m.thresholdRange) return m.thresholdRange;
  return m.threshold !== undefined ? { max: m.threshold } : {};
}

function providerFor(
  settings: Parameters<typeof createProvider>[0],
  cache: Map<string, MetricsProvider> | undefined,
): { ok: true; value: MetricsProvider } | { ok: false; message: string } {
  const key = JSON.stringify(settings);
  const cached = cache?.get(key);
  if (cached) return { ok: true, value: cached };
  const made = createProvider(settings);
  if (made.ok) cache?.set(key, made.value);
  return made;
}

async function queryMetric(
  canary: Canary,
  m: CanaryMetric,
  deps: GatherDeps,
  signal: AbortSignal,
): Promise<MetricResult> {
  const ns = canary.metadata.namespace ?? '';
  const intervalMs = parseGoDuration(m.interval);
  const timeoutMs = deps.queryTimeoutMs ?? 10_000;
  const vars = {
    name: canary.metadata.name ?? '',
    namespace: ns,
    target: canary.spec.targetRef.name,
    service: canary.spec.service.name,
    interval: m.interval,
    ...(m.templateVariables ? { variables: m.templateVariables } : {}),
  };
  const opts = { signal, ...(intervalMs.ok ? { intervalMs: intervalMs.value } : {}) };
  if (m.templateRef) {
    const tns = m.templateRef.namespace ?? ns;
    const template = deps.metricTemplate(tns, m.templateRef.name);
    if (!template)
      return { kind: 'bad-query', message: `MetricTemplate ${tns}/${m.templateRef.name} not found` };
    const query = renderTemplate(template.spec.query, vars);
    if (!query.ok)
      return { kind: 'bad-query', message: `MetricTemplate ${tns}/${m.templateRef.name}: ${query.message}` };
    const p = template.spec.provider;
    const secret = p.secretRef ? await deps.secret(tns, p.secretRef.name) : undefined;
    if (p.secretRef && !secret)
      return {
        kind: 'unauthorized',
        message: `Secret ${tns}/${p.secretRef.name} of the template cannot be read`,
      };
    const headers = p.headers
      ? Object.fromEntries(Object.entries(p.headers).map(([k, v]) => [k, v.join(',')]))
      : undefined;
    const provider = providerFor(
      {
        type: p.type,
        ...(p.address ? { address: p.address } : {}),
        ...(secret ? { secret } : {}),
        ...(headers ? { headers } : {}),
        ...(p.insecureSkipVerify !== undefined ? { insecureSkipVerify: p.insecureSkipVerify } : {}),
        timeoutMs,
      },
      deps.providerCache,
    );
    if (!provider.ok) return { kind: 'bad-query', message: provider.message };
    return provider.value.query(query.value, opts);
  }
  if (!isBuiltinCheck(m.name))
    return {
      kind: 'bad-query',
      message: `metric ${JSON.stringify(m.name)} is not a built-in check and has no templateRef`,
    };
  const query = builtinQuery(m.name, canary.spec.provider, {
    target: canary.spec.targetRef.name,
    namespace: ns,
    service: canary.spec.service.name,
    port: canary.spec.service.port,
    interval: m.interval,
  });
  if (!query.ok) return { kind: 'bad-query', message: query.message };
  const server = canary.spec.metricsServer ?? deps.metricsServer;
  const provider = providerFor({ type: 'prometheus', address: server, timeoutMs }, deps.providerCache);
  if (!provider.ok) return { kind: 'bad-query', message: provider.message };
  return provider.value.query(query.value, opts);
}

/** Evaluates every metric of the analysis (in parallel), in spec order. */
export async function runMetrics(canary: Canary, deps: GatherDeps, signal: AbortSignal): Promise<Verdict[]> {
  return Promise.all(
    canary.spec.analysis.metrics.map(async (m) => {
      const result = await queryMetric(canary, m, deps, signal).catch((err: unknown): MetricResult => ({
        kind: 'unreachable',
        message: String(err),
      }));
      return evaluate({
        metric: m.name,
        result,
        threshold: thresholdOf(m),
        onNoData: m.onNoData,
        dryRun: m.dryRun,
      });
    }),
  );
}

/** Calls every webhook of `type` in spec order (as Flagger, one after the other). */
export async function runWebhooks(
  canary: Canary,
  type: GatingWebhookType | 'post-rollout' | 'event',
  phase: string,
  signal: AbortSignal,
  event?: WebhookCall['event'],
): Promise<WebhookOutcome[]> {
  const out: WebhookOutcome[] = [];
  const call: WebhookCall = {
    name: canary.metadata.name ?? '',
    namespace: canary.metadata.namespace ?? '',
    phase,
    checksum: webhookChecksum(canary),
    ...(event ? { event } : {}),
  };
  for (const [i, w] of canary.spec.analysis.webhooks.entries()) {
    if (w.type !== type) continue;
    const hook = validateWebhook(w, `spec.analysis.webhooks[${i}]`);
    if (!hook.ok) {
      out.push({
        name: w.name,
        result: {
          outcome: 'unreachable',
          message: hook.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
          attempts: 0,
        },
      });
      continue;
    }
    out.push({ name: w.name, result: await callWebhook(hook.value, call, { signal }) });
  }
  return out;
}
