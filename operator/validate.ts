// Admission of a Canary (SPEC §2.1): parsing with the zod schema and defaults, every semantic rule the CRD
// schema cannot express, and the strategy choice. Pure: lookups of referenced objects are passed in.
import { validateCronExpression } from 'cron';
import type { z } from 'zod';
import { isBuiltinCheck, BUILTIN_CHECKS } from '../analysis/builtin.js';
import { parseGoDuration } from '../analysis/duration.js';
import { validateThresholdRange } from '../analysis/evaluate.js';
import { validateTemplateQuery } from '../analysis/template.js';
import { validateWebhook } from '../analysis/webhooks.js';
import type {
  AlertProvider,
  Canary,
  CanaryAnalysisInput,
  CanaryMetric,
  MetricTemplate,
} from '../crds/schema/flagger.js';
import { canaryObjectSchema, withDefaults } from '../crds/schema/flagger.js';

/** One problem of an object, e.g. `{field: 'spec.service.port', message: 'Required value'}`. */
export interface Problem {
  field: string;
  message: string;
}

/** `field: message`, the form events, conditions and the CLI show. */
export const formatProblem = (p: Problem): string => `${p.field}: ${p.message}`;

/**
 * How validateCanary finds referenced objects (typically informer caches). `undefined` means not found;
 * implementations must not do I/O per call.
 */
export interface CanaryLookups {
  metricTemplate(namespace: string, name: string): MetricTemplate | undefined;
  alertProvider(namespace: string, name: string): AlertProvider | undefined;
}

export type Strategy = 'canary' | 'ab-testing' | 'blue-green' | 'blue-green-mirroring';

/** The analysis interval may not be shorter than this (SPEC §2.1). */
export const MIN_ANALYSIS_INTERVAL_MS = 10_000;

/**
 * Flagger's rule: match + iterations → A/B testing; iterations alone → blue/green (with mirror: true, blue/green
 * with mirroring); otherwise canary (weights). Works on a spec with or without defaults.
 */
export function strategyOf(spec: {
  analysis: Pick<CanaryAnalysisInput, 'iterations' | 'match' | 'mirror'>;
}): Strategy {
  const a = spec.analysis;
  if (a.iterations !== undefined && a.iterations > 0) {
    if (a.match !== undefined && a.match.length > 0) return 'ab-testing';
    return a.mirror === true ? 'blue-green-mirroring' : 'blue-green';
  }
  return 'canary';
}

export type ParseResult = { ok: true; value: Canary } | { ok: false; problems: Problem[] };

/** `spec.analysis.metrics[1].name` from a zod issue path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '<root>' : out;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  // Missing fields read as kube-apiserver words them.
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'Required value';
  return issue.message;
}

/**
 * Parses a Canary as read from the API server (or a manifest) and applies SPEC §2.1's defaults. Structural
 * problems (types, enums, required fields, ranges) are all reported, each with its field path; semantic rules
 * are validateCanary's.
 */
export function parseCanary(obj: unknown): ParseResult {
  const parsed = canaryObjectSchema.safeParse(obj);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ field: fieldPath(i.path), message: issueMessage(i) })),
    };
  }
  const { spec, ...rest } = parsed.data;
  return { ok: true, value: { ...rest, spec: withDefaults(spec) } };
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validateStrategy(canary: Canary, problems: Problem[]): void {
  const a = canary.spec.analysis;
  const at = 'spec.analysis';
  const set = (['iterations', 'stepWeight', 'stepWeights'] as const).filter((k) => a[k] !== undefined);
  if (set.length === 0) {
    problems.push({ field: at, message: 'Required value: one of iterations, stepWeight or stepWeights' });
  } else if (set.length > 1) {
    problems.push({
      field: at,
      message: `Invalid value: set exactly one of iterations, stepWeight or stepWeights (got ${set.join(', ')})`,
    });
  }
  if (a.threshold < 1)
    problems.push({ field: `${at}.threshold`, message: `${a.threshold} must be at least 1` });
  if (a.iterations !== undefined && a.iterations < 1)
    problems.push({ field: `${at}.iterations`, message: `${a.iterations} must be at least 1` });
  if (a.stepWeight !== undefined) {
    if (a.stepWeight < 1)
      problems.push({ field: `${at}.stepWeight`, message: `${a.stepWeight} must be at least 1` });
    else if (a.stepWeight > a.maxWeight)
      problems.push({
        field: `${at}.stepWeight`,
        message: `${a.stepWeight} is greater than maxWeight ${a.maxWeight}`,
      });
  }
  if (a.maxWeight < 1)
    problems.push({ field: `${at}.maxWeight`, message: `${a.maxWeight} must be at least 1` });
  if (a.stepWeights !== undefined) {
    if (a.stepWeights.length === 0)
      problems.push({ field: `${at}.stepWeights`, message: 'must list at least one weight' });
    a.stepWeights.forEach((w, i) => {
      const field = `${at}.stepWeights[${i}]`;
      const prev = i > 0 ? a.stepWeights?.[i - 1] : undefined;
      if (w < 1) problems.push({ field, message: `${w} must be at least 1` });
      else if (prev !== undefined && w <= prev)
        problems.push({ field, message: `${w} is not greater than the previous step ${prev}` });
      else if (w > a.maxWeight)
        problems.push({ field, message: `${w} is greater than maxWeight ${a.maxWeight}` });
    });
  }
  if (a.stepWeightPromotion !== undefined && a.stepWeightPromotion < 1)
    problems.push({
      field: `${at}.stepWeightPromotion`,
      message: `${a.stepWeightPromotion} must be at least 1`,
    });

  const interval = parseGoDuration(a.interval);
  if (!interval.ok) problems.push({ field: `${at}.interval`, message: interval.message });
  else if (interval.value < MIN_ANALYSIS_INTERVAL_MS)
    problems.push({ field: `${at}.interval`, message: `${a.interval} is less than the minimum 10s` });

  // provider kubernetes switches Service selectors: blue/green only (SPEC §2.1).
  if (canary.spec.provider === 'kubernetes') {
    const why =
      'provider kubernetes switches Service selectors and supports blue/green only (use iterations)';
    for (const k of ['stepWeight', 'stepWeights'] as const)
      if (a[k] !== undefined) problems.push({ field: `${at}.${k}`, message: why });
    if (a.match.length > 0) problems.push({ field: `${at}.match`, message: why });
    if (a.mirror) problems.push({ field: `${at}.mirror`, message: why });
    if (a.sessionAffinity !== undefined) problems.push({ field: `${at}.sessionAffinity`, message: why });
  }
  if (a.mirror && strategyOf(canary.spec) !== 'blue-green-mirroring')
    problems.push({
      field: `${at}.mirror`,
      message: 'mirroring needs blue/green: set iterations (without match) instead of stepWeight(s)',
    });
  validateStrategyShape(canary, problems);
}

/** An RFC 6265 cookie name (a token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The fields that shape a strategy's routes (SPEC §3.4): A/B match, mirrorWeight, sessionAffinity. */
function validateStrategyShape(canary: Canary, problems: Problem[]): void {
  const a = canary.spec.analysis;
  const at = 'spec.analysis';
  const strategy = strategyOf(canary.spec);
  if (a.match.length > 0 && strategy !== 'ab-testing' && canary.spec.provider !== 'kubernetes')
    problems.push({
      field: `${at}.match`,
      message: 'A/B testing needs iterations: set iterations instead of stepWeight(s)',
    });
  a.match.forEach((m, i) => {
    const field = `${at}.match[${i}]`;
    const conditions = [m.headers, m.queryParams, m.sourceLabels].filter(
      (c) => c !== undefined && Object.keys(c).length > 0,
    );
    if (conditions.length === 0)
      problems.push({ field, message: 'matches every request: set headers or queryParams' });
    if (m.sourceLabels !== undefined && canary.spec.provider === 'fledge')
      problems.push({ field: `${field}.sourceLabels`, message: 'is not supported by the fledge mesh' });
    for (const kind of ['headers', 'queryParams'] as const)
      for (const [name, sm] of Object.entries(m[kind] ?? {})) {
        const set = (['exact', 'prefix', 'suffix', 'regex'] as const).filter((k) => sm[k] !== undefined);
        if (set.length !== 1)
          problems.push({
            field: `${field}.${kind}[${name}]`,
            message: `set exactly one of exact, prefix, suffix or regex (got ${set.length === 0 ? 'none' : set.join(', ')})`,
          });
      }
  });
  if (a.mirrorWeight !== undefined) {
    if (!a.mirror) problems.push({ field: `${at}.mirrorWeight`, message: 'is set without mirror: true' });
    else if (a.mirrorWeight < 1)
      problems.push({ field: `${at}.mirrorWeight`, message: `${a.mirrorWeight} must be at least 1` });
  }
  const affinity = a.sessionAffinity;
  if (affinity !== undefined) {
    if (strategy !== 'canary')
      problems.push({
        field: `${at}.sessionAffinity`,
        message: 'session affinity needs the canary strategy: set stepWeight(s) instead of iterations',
      });
    if (!COOKIE_NAME.test(affinity.cookieName))
      problems.push({
        field: `${at}.sessionAffinity.cookieName`,
        message: `${JSON.stringify(affinity.cookieName)} is not a cookie name`,
      });
  }
}

function validateMetric(
  canary: Canary,
  m: CanaryMetric,
  i: number,
  lookups: CanaryLookups,
  problems: Problem[],
): void {
  const at = `spec.analysis.metrics[${i}]`;
  const interval = parseGoDuration(m.interval);
  if (!interval.ok) problems.push({ field: `${at}.interval`, message: interval.message });
  else if (interval.value <= 0) problems.push({ field: `${at}.interval`, message: 'must be greater than 0' });

  // thresholdRange, or Flagger's deprecated threshold meaning a maximum.
  const range = m.thresholdRange ?? (m.threshold !== undefined ? { max: m.threshold } : undefined);
  for (const e of validateThresholdRange(range, `${at}.thresholdRange`))
    problems.push({ field: e.path, message: e.message });

  const variables = m.templateVariables ?? {};
  if (m.templateRef !== undefined) {
    const ns = m.templateRef.namespace ?? canary.metadata.namespace;
    const template = lookups.metricTemplate(ns, m.templateRef.name);
    if (template === undefined) {
      problems.push({
        field: `${at}.templateRef`,
        message: `MetricTemplate ${JSON.stringify(m.templateRef.name)} not found in namespace ${JSON.stringify(ns)}`,
      });
    } else {
      const check = validateTemplateQuery(template.spec.query, template.spec.provider.type, {
        variables,
        interval: m.interval,
      });
      if (!check.ok)
        problems.push({
          field: `${at}.templateRef`,
          message: `MetricTemplate ${ns}/${m.templateRef.name}: ${check.message}`,
        });
    }
  } else if (m.query !== undefined) {
    const check = validateTemplateQuery(m.query, 'prometheus', { variables, interval: m.interval });
    if (!check.ok) problems.push({ field: `${at}.query`, message: check.message });
  } else if (!isBuiltinCheck(m.name)) {
    problems.push({
      field: `${at}.name`,
      message: `unknown metric ${JSON.stringify(m.name)}: not a built-in check (${BUILTIN_CHECKS.join(', ')}) and no templateRef or query is set`,
    });
  }
}

/**
 * Every semantic problem of a parsed Canary (see parseCanary), in field order, each with its field path: the
 * strategy requirements, weights, intervals, metrics and their templates, webhooks, alerts and their providers,
 * windows. An empty list means the Canary may run.
 */
export function validateCanary(canary: Canary, lookups: CanaryLookups): Problem[] {
  const problems: Problem[] = [];
  const spec = canary.spec;

  if (spec.metricsServer !== undefined) {
    try {
      new URL(spec.metricsServer);
    } catch {
      problems.push({
        field: 'spec.metricsServer',
        message: `${JSON.stringify(spec.metricsServer)} is not an absolute URL`,
      });
    }
  }
  const replicas = spec.autoscalerRef?.primaryScalerReplicas;
  if (
    replicas?.minReplicas !== undefined &&
    replicas.maxReplicas !== undefined &&
    replicas.minReplicas > replicas.maxReplicas
  )
    problems.push({
      field: 'spec.autoscalerRef.primaryScalerReplicas.minReplicas',
      message: `${replicas.minReplicas} is greater than maxReplicas ${replicas.maxReplicas}`,
    });
  if (typeof spec.service.targetPort === 'string' && spec.service.targetPort === '')
    problems.push({ field: 'spec.service.targetPort', message: 'must be a port number or a non-empty name' });

  validateStrategy(canary, problems);

  const a = spec.analysis;
  const metricNames = new Map<string, number>();
  a.metrics.forEach((m, i) => {
    const first = metricNames.get(m.name);
    if (first !== undefined)
      problems.push({
        field: `spec.analysis.metrics[${i}].name`,
        message: `Duplicate value: ${JSON.stringify(m.name)} (also metrics[${first}])`,
      });
    else metricNames.set(m.name, i);
    validateMetric(canary, m, i, lookups, problems);
  });

  a.webhooks.forEach((w, i) => {
    const check = validateWebhook(w, `spec.analysis.webhooks[${i}]`);
    if (!check.ok) problems.push(...check.errors);
  });

  a.alerts.forEach((alert, i) => {
    const ns = alert.providerRef.namespace ?? canary.metadata.namespace;
    const provider = lookups.alertProvider(ns, alert.providerRef.name);
    const field = `spec.analysis.alerts[${i}].providerRef`;
    if (provider === undefined)
      problems.push({
        field,
        message: `AlertProvider ${JSON.stringify(alert.providerRef.name)} not found in namespace ${JSON.stringify(ns)}`,
      });
    else if (provider.spec.address === undefined && provider.spec.secretRef === undefined)
      problems.push({
        field,
        message: `AlertProvider ${ns}/${alert.providerRef.name} has neither address nor secretRef`,
      });
  });

  a.windows.forEach((w, i) => {
    const at = `spec.analysis.windows[${i}]`;
    const cron = validateCronExpression(w.cron);
    if (!cron.valid)
      problems.push({
        field: `${at}.cron`,
        message: `${JSON.stringify(w.cron)} is not a cron expression: ${cron.error?.message ?? 'invalid'}`,
      });
    const duration = parseGoDuration(w.duration);
    if (!duration.ok) problems.push({ field: `${at}.duration`, message: duration.message });
    else if (duration.value <= 0)
      problems.push({ field: `${at}.duration`, message: 'must be greater than 0' });
    if (w.timezone !== undefined && !isValidTimeZone(w.timezone))
      problems.push({ field: `${at}.timezone`, message: `unknown time zone ${JSON.stringify(w.timezone)}` });
  });

  return problems;
}

export type AdmitResult =
  { ok: true; value: Canary; strategy: Strategy } | { ok: false; problems: Problem[] };

/** parseCanary then validateCanary: what the reconciler runs before acting on a Canary. */
export function admitCanary(obj: unknown, lookups: CanaryLookups): AdmitResult {
  const parsed = parseCanary(obj);
  if (!parsed.ok) return parsed;
  const problems = validateCanary(parsed.value, lookups);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: parsed.value, strategy: strategyOf(parsed.value.spec) };
}
