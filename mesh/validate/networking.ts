// Checks of a VirtualService or DestinationRule on its own (no other object needed): schema, fields
// outside the supported subset, regexes, weights, LB conflicts. Each problem names its field path.
import type { z } from 'zod';
import type { DestinationRuleSpec, VirtualServiceSpec } from '../../crds/schema/networking.js';
import { destinationRuleSpec, virtualServiceSpec } from '../../crds/schema/networking.js';
import { checkRe2 } from './re2.js';
import { issuePath, undeclaredFields } from './unsupported.js';

/** Why an object (or a part of it) is not applied; used as the reason of its status condition. */
export type ProblemReason =
  | 'Invalid'
  | 'UnsupportedField'
  | 'InvalidRegex'
  | 'InvalidWeights'
  | 'ConflictingLoadBalancer'
  | 'UnknownHost'
  | 'UnknownSubset'
  | 'UnknownPort'
  | 'Conflict';

/** One problem of an object: `path` is a field path (`spec.http[0].timeout`), `message` a sentence naming it. */
export interface Problem {
  reason: ProblemReason;
  path: string;
  message: string;
}

export type Checked<T> = { ok: true; spec: T } | { ok: false; problems: Problem[] };

const problem = (reason: ProblemReason, path: string, what: string): Problem => ({
  reason,
  path,
  message: `${path} ${what}`,
});

type StringMatch = { exact?: string | undefined; prefix?: string | undefined; regex?: string | undefined };

/** Envoy retry_on conditions (HTTP and gRPC) that VirtualService retries.retryOn may name. */
export const RETRY_ON_CONDITIONS = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** gRPC status codes by the names Istio accepts in fault.abort.grpcStatus. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** The gRPC status code a grpcStatus value stands for (a name or a number), or undefined. */
export function grpcStatusCode(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) <= 16 ? Number(value) : undefined;
  return GRPC_STATUS_CODES[value.toUpperCase()];
}

/** Envoy RedirectAction response codes by HTTP status. */
export const REDIRECT_CODES: Readonly<Record<number, string>> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/** An HTTP header name Envoy lets a route add or remove: a token, not a pseudo-header, not Host. */
const isMutableHeaderName = (name: string): boolean =>
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) && name.toLowerCase() !== 'host';

function zodProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) =>
    problem('Invalid', issuePath('spec', issue.path), `is invalid: ${issue.message}`),
  );
}

function exportToProblems(exportTo: string[] | undefined): Problem[] {
  if (exportTo === undefined || exportTo.every((e) => e === '*')) return [];
  return [
    problem('UnsupportedField', 'spec.exportTo', 'is not supported (only "*", visible to every namespace)'),
  ];
}

/**
 * A string match: `presence` says whether an empty match (no exact/prefix/regex: "present") is
 * allowed, as for headers and query parameters; otherwise exactly one form must be set.
 */
function stringMatchProblems(m: StringMatch, path: string, presence: boolean): Problem[] {
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => m[k] !== undefined);
  if (set.length > 1)
    return [problem('Invalid', path, `sets ${set.join(' and ')}: set exactly one of exact, prefix, regex`)];
  if (set.length === 0 && !presence) return [problem('Invalid', path, 'sets none of exact, prefix, regex')];
  if (m.regex !== undefined) {
    const r = checkRe2(m.regex);
    if (!r.ok) return [problem('InvalidRegex', `${path}.regex`, `is not a valid RE2 regex: ${r.message}`)];
  }
  return [];
}

function weightProblems(route: Array<{ weight?: number | undefined }> | undefined, path: string): Problem[] {
  if (!route || route.length === 0) return [];
  if (route.length === 1 && route[0]?.weight === undefined) return [];
  const total = route.reduce((sum, r) => sum + (r.weight ?? 0), 0);
  if (total === 100) return [];
  return [problem('InvalidWeights', path, `weights sum to ${total}: they must sum to 100`)];
}

type HeaderOps = { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };

function headerOpsProblems(
  headers: { request?: HeaderOps; response?: HeaderOps } | undefined,
  path: string,
): Problem[] {
  const out: Problem[] = [];
  for (const dir of ['request', 'response'] as const) {
    const ops = headers?.[dir];
    if (!ops) continue;
    const names: Array<[string, string]> = [
      ...Object.keys(ops.set ?? {}).map((n): [string, string] => [n, `${path}.${dir}.set[${n}]`]),
      ...Object.keys(ops.add ?? {}).map((n): [string, string] => [n, `${path}.${dir}.add[${n}]`]),
      ...(ops.remove ?? []).map((n, i): [string, string] => [n, `${path}.${dir}.remove[${i}]`]),
    ];
    for (const [name, p] of names)
      if (!isMutableHeaderName(name))
        out.push(problem('Invalid', p, `names header "${name}", which a route cannot set or remove`));
  }
  return out;
}

/** Schema, supported subset and self-consistency of a VirtualService spec. */
export function checkVirtualServiceSpec(raw: unknown): Checked<VirtualServiceSpec> {
  const parsed = virtualServiceSpec.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const spec = parsed.data;
  const out: Problem[] = undeclaredFields(virtualServiceSpec, raw, 'spec').map((p) =>
    problem('UnsupportedField', p, 'is not supported'),
  );
  out.push(...exportToProblems(spec.exportTo));

  spec.http?.forEach((http, i) => {
    const base = `spec.http[${i}]`;
    if (http.route?.length && http.redirect)
      out.push(problem('Invalid', base, 'sets both route and redirect: set one'));
    if (!http.route?.length && !http.redirect)
      out.push(problem('Invalid', base, 'sets neither route nor redirect'));
    if (http.redirect && http.rewrite) out.push(problem('Invalid', base, 'sets both redirect and rewrite'));
    const code = http.redirect?.redirectCode;
    if (code !== undefined && REDIRECT_CODES[code] === undefined)
      out.push(
        problem(
          'Invalid',
          `${base}.redirect.redirectCode`,
          `is ${code}: use one of ${Object.keys(REDIRECT_CODES).join(', ')}`,
        ),
      );

    http.match?.forEach((m, j) => {
      const mp = `${base}.match[${j}]`;
      if (m.sourceLabels !== undefined)
        out.push(problem('UnsupportedField', `${mp}.sourceLabels`, 'is not supported'));
      for (const k of ['uri', 'scheme', 'method', 'authority'] as const) {
        const sm = m[k];
        if (sm) out.push(...stringMatchProblems(sm, `${mp}.${k}`, false));
      }
      for (const k of ['headers', 'withoutHeaders', 'queryParams'] as const)
        for (const [name, sm] of Object.entries(m[k] ?? {}))
          out.push(...stringMatchProblems(sm, `${mp}.${k}[${name}]`, true));
    });

    out.push(...weightProblems(http.route, `${base}.route`));
    out.push(...headerOpsProblems(http.headers, `${base}.headers`));
    http.route?.forEach((r, k) => out.push(...headerOpsProblems(r.headers, `${base}.route[${k}].headers`)));

    if (http.mirror && http.mirrors?.length)
      out.push(problem('Invalid', base, 'sets both mirror and mirrors: set one'));
    if (http.mirrorPercentage && !http.mirror)
      out.push(problem('Invalid', `${base}.mirrorPercentage`, 'is set without mirror'));

    if (http.fault) {
      const fp = `${base}.fault`;
      if (!http.fault.delay && !http.fault.abort)
        out.push(problem('Invalid', fp, 'sets neither delay nor abort'));
      const abort = http.fault.abort;
      if (abort) {
        const forms = [abort.httpStatus !== undefined, abort.grpcStatus !== undefined].filter(Boolean).length;
        if (forms !== 1)
          out.push(problem('Invalid', `${fp}.abort`, 'must set exactly one of httpStatus, grpcStatus'));
        if (abort.grpcStatus !== undefined && grpcStatusCode(abort.grpcStatus) === undefined)
          out.push(
            problem('Invalid', `${fp}.abort.grpcStatus`, `is "${abort.grpcStatus}", not a gRPC status code`),
          );
      }
    }

    if (http.retries) {
      if (http.retries.retryRemoteLocalities !== undefined)
        out.push(problem('UnsupportedField', `${base}.retries.retryRemoteLocalities`, 'is not supported'));
      for (const cond of (http.retries.retryOn ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean))
        if (!RETRY_ON_CONDITIONS.has(cond) && !/^[1-5]\d\d$/.test(cond))
          out.push(
            problem(
              'Invalid',
              `${base}.retries.retryOn`,
              `names "${cond}", not a retry condition or HTTP status`,
            ),
          );
    }

    http.corsPolicy?.allowOrigins?.forEach((o, k) =>
      out.push(...stringMatchProblems(o, `${base}.corsPolicy.allowOrigins[${k}]`, false)),
    );
  });

  spec.tcp?.forEach((tcp, i) => {
    const base = `spec.tcp[${i}]`;
    tcp.match?.forEach((m, j) => {
      for (const k of ['sourceLabels', 'destinationSubnets'] as const)
        if (m[k] !== undefined)
          out.push(problem('UnsupportedField', `${base}.match[${j}].${k}`, 'is not supported'));
    });
    if (!tcp.route?.length) out.push(problem('Invalid', base, 'has no route'));
    out.push(...weightProblems(tcp.route, `${base}.route`));
  });

  return out.length ? { ok: false, problems: out } : { ok: true, spec };
}

type TrafficPolicy = NonNullable<DestinationRuleSpec['trafficPolicy']>;
type PortPolicy = NonNullable<TrafficPolicy['portLevelSettings']>[number];

/** Problems of one traffic policy and (for a top-level or subset policy) its portLevelSettings. */
function policyProblems(policy: PortPolicy, path: string, portLevel?: PortPolicy[]): Problem[] {
  const out: Problem[] = [];
  const lb = policy.loadBalancer;
  if (lb?.simple !== undefined && lb.consistentHash !== undefined)
    out.push(
      problem(
        'ConflictingLoadBalancer',
        `${path}.loadBalancer`,
        'sets both simple and consistentHash: set one',
      ),
    );
  const ch = lb?.consistentHash;
  if (ch) {
    const keys = [
      ch.httpHeaderName !== undefined,
      ch.httpCookie !== undefined,
      ch.useSourceIp === true,
      ch.httpQueryParameterName !== undefined,
    ].filter(Boolean).length;
    if (keys !== 1)
      out.push(
        problem(
          'Invalid',
          `${path}.loadBalancer.consistentHash`,
          'must set exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName',
        ),
      );
  }
  const tls = policy.tls;
  if (tls?.mode !== undefined && tls.mode !== 'DISABLE')
    out.push(
      problem('UnsupportedField', `${path}.tls.mode`, `${tls.mode} is not supported yet (only DISABLE)`),
    );
  for (const k of ['credentialName', 'sni'] as const)
    if (tls?.[k] !== undefined)
      out.push(problem('UnsupportedField', `${path}.tls.${k}`, 'is not supported yet'));
  const seen = new Set<number>();
  portLevel?.forEach((pl, i) => {
    const pp = `${path}.portLevelSettings[${i}]`;
    const port = pl.port?.number;
    if (port === undefined) out.push(problem('Invalid', `${pp}.port`, 'is required'));
    else if (seen.has(port)) out.push(problem('Invalid', `${pp}.port`, `repeats port ${port}`));
    else seen.add(port);
    out.push(...policyProblems(pl, pp));
  });
  return out;
}

/** Schema, supported subset and self-consistency of a DestinationRule spec. */
export function checkDestinationRuleSpec(raw: unknown): Checked<DestinationRuleSpec> {
  const parsed = destinationRuleSpec.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const spec = parsed.data;
  const out: Problem[] = undeclaredFields(destinationRuleSpec, raw, 'spec').map((p) =>
    problem('UnsupportedField', p, 'is not supported'),
  );
  out.push(...exportToProblems(spec.exportTo));
  if (spec.trafficPolicy)
    out.push(
      ...policyProblems(spec.trafficPolicy, 'spec.trafficPolicy', spec.trafficPolicy.portLevelSettings),
    );
  const names = new Set<string>();
  spec.subsets?.forEach((s, i) => {
    const sp = `spec.subsets[${i}]`;
    if (names.has(s.name)) out.push(problem('Invalid', `${sp}.name`, `repeats subset ${s.name}`));
    names.add(s.name);
    if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(s.name))
      out.push(problem('Invalid', `${sp}.name`, `"${s.name}" is not a valid subset name`));
    if (s.trafficPolicy)
      out.push(...policyProblems(s.trafficPolicy, `${sp}.trafficPolicy`, s.trafficPolicy.portLevelSettings));
  });
  return out.length ? { ok: false, problems: out } : { ok: true, spec };
}

export { problem };
