// Canary admission: parsing with defaults, every semantic rule with its field path, the strategy choice, and
// Flagger's podinfo example manifest accepted unchanged.
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import type { AlertProvider, MetricTemplate } from '../../crds/schema/flagger.js';
import type { CanaryLookups } from '../../operator/validate.js';
import { PODINFO_CANARY_YAML } from '../fixtures/podinfo-canary.js';
import {
  admitCanary,
  formatProblem,
  parseCanary,
  strategyOf,
  validateCanary,
} from '../../operator/validate.js';

type Obj = Record<string, unknown>;
const podinfo = (): Obj => YAML.parse(PODINFO_CANARY_YAML) as Obj;

const template = (name: string, namespace: string, query: string): MetricTemplate => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'MetricTemplate',
  metadata: { name, namespace },
  spec: { provider: { type: 'prometheus', address: 'http://prometheus:9090' }, query },
});
const alertProvider = (name: string, namespace: string, address?: string): AlertProvider => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'AlertProvider',
  metadata: { name, namespace },
  spec: { type: 'slack', channel: 'general', ...(address ? { address } : {}) },
});

const lookups: CanaryLookups = {
  metricTemplate: (ns, name) =>
    [
      template(
        'error-rate',
        'test',
        'sum(rate(http_requests_total{namespace="{{ namespace }}"}[{{ interval }}]))',
      ),
      template('by-route', 'test', 'sum(rate(http_requests_total{route="{{ variables.route }}"}[1m]))'),
      template('broken', 'test', 'sum(rate(http_requests_total[1m])'),
    ].find((t) => t.metadata.name === name && t.metadata.namespace === ns),
  alertProvider: (ns, name) =>
    [alertProvider('on-call', 'test', 'https://hooks.slack.com/x'), alertProvider('empty', 'test')].find(
      (p) => p.metadata.name === name && p.metadata.namespace === ns,
    ),
};

/** podinfo with `edit` applied to a deep copy of its spec. */
function withSpec(edit: (spec: Obj, analysis: Obj) => void): Obj {
  const obj = podinfo();
  const spec = obj.spec as Obj;
  edit(spec, spec.analysis as Obj);
  return obj;
}

/** Every problem of an object, formatted: parse problems, else semantic ones. */
function problemsOf(obj: Obj): string[] {
  const parsed = parseCanary(obj);
  if (!parsed.ok) return parsed.problems.map(formatProblem);
  return validateCanary(parsed.value, lookups).map(formatProblem);
}

describe("Flagger's podinfo example", () => {
  it('parses, validates and gets the defaults of SPEC §2.1', () => {
    const result = admitCanary(podinfo(), lookups);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.strategy).toBe('canary');
    const spec = result.value.spec;
    expect(spec.provider).toBe('fledge');
    expect(spec.progressDeadlineSeconds).toBe(60);
    expect(spec.skipAnalysis).toBe(false);
    expect(spec.service).toMatchObject({
      name: 'podinfo',
      portName: 'http',
      port: 9898,
      targetPort: 9898,
      gateways: ['istio-ingressgateway.istio-system.svc.cluster.local'],
    });
    expect(spec.analysis).toMatchObject({
      interval: '1m',
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      alerts: [],
      windows: [],
    });
    expect(spec.analysis.metrics.map((m) => [m.name, m.interval, m.onNoData, m.dryRun])).toEqual([
      ['request-success-rate', '1m', 'fail', false],
      ['request-duration', '30s', 'fail', false],
    ]);
    expect(spec.analysis.webhooks.map((w) => [w.name, w.type, w.timeout])).toEqual([
      ['acceptance-test', 'pre-rollout', '30s'],
      ['load-test', 'rollout', '5s'],
    ]);
  });

  it('defaults that depend on other fields: service name, targetPort, gateways, metric interval', () => {
    const parsed = parseCanary(
      withSpec((spec, a) => {
        spec.service = { port: 8080 };
        a.metrics = [{ name: 'request-success-rate', thresholdRange: { min: 99 } }];
        spec.provider = 'istio';
      }),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.spec.provider).toBe('istio');
    expect(parsed.value.spec.service).toMatchObject({
      name: 'podinfo',
      targetPort: 8080,
      gateways: ['mesh'],
    });
    expect(parsed.value.spec.analysis.metrics[0]?.interval).toBe('1m');
    expect(parsed.value.metadata.namespace).toBe('test');
  });

  it('keeps the sessionAffinity maxAge default of Flagger', () => {
    const parsed = parseCanary(
      withSpec((_s, a) => void (a.sessionAffinity = { cookieName: 'flagger-cookie' })),
    );
    expect(parsed.ok && parsed.value.spec.analysis.sessionAffinity?.maxAge).toBe(86400);
  });
});

describe('parseCanary: structural problems with field paths', () => {
  it.each<[string, (spec: Obj, analysis: Obj) => void, string[]]>([
    [
      'unknown provider',
      (s) => void (s.provider = 'linkerd'),
      ['spec.provider: unknown provider "linkerd": expected one of fledge, istio, kubernetes'],
    ],
    [
      'missing service port',
      (s) => void (s.service = { name: 'podinfo' }),
      ['spec.service.port: Required value'],
    ],
    ['missing interval', (_s, a) => void delete a.interval, ['spec.analysis.interval: Required value']],
    ['missing threshold', (_s, a) => void delete a.threshold, ['spec.analysis.threshold: Required value']],
    ['missing targetRef', (s) => void delete s.targetRef, ['spec.targetRef: Required value']],
  ])('%s', (_name, edit, expected) => {
    expect(problemsOf(withSpec(edit))).toEqual(expected);
  });

  it('reports every structural problem at once', () => {
    const problems = problemsOf(
      withSpec((s, a) => {
        (s.targetRef as Obj).kind = 'StatefulSet';
        a.stepWeight = 101;
        a.metrics = [{ name: 'x', onNoData: 'maybe' }];
      }),
    ).map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual([
      'spec.analysis.metrics[0].onNoData',
      'spec.analysis.stepWeight',
      'spec.targetRef.kind',
    ]);
  });

  it('rejects an object of another kind', () => {
    const parsed = parseCanary({ ...podinfo(), kind: 'Rollout' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.map((p) => p.field)).toEqual(['kind']);
  });
});

describe('validateCanary: semantic rules', () => {
  it.each<[string, (spec: Obj, analysis: Obj) => void, string[]]>([
    [
      'stepWeight above maxWeight',
      (_s, a) => void (a.stepWeight = 60),
      ['spec.analysis.stepWeight: 60 is greater than maxWeight 50'],
    ],
    ['stepWeight 0', (_s, a) => void (a.stepWeight = 0), ['spec.analysis.stepWeight: 0 must be at least 1']],
    [
      'no strategy field',
      (_s, a) => void delete a.stepWeight,
      ['spec.analysis: Required value: one of iterations, stepWeight or stepWeights'],
    ],
    [
      'two strategy fields',
      (_s, a) => void (a.iterations = 10),
      [
        'spec.analysis: Invalid value: set exactly one of iterations, stepWeight or stepWeights (got iterations, stepWeight)',
      ],
    ],
    [
      'stepWeights not increasing and above maxWeight',
      (_s, a) => {
        delete a.stepWeight;
        a.stepWeights = [5, 20, 10, 60];
      },
      [
        'spec.analysis.stepWeights[2]: 10 is not greater than the previous step 20',
        'spec.analysis.stepWeights[3]: 60 is greater than maxWeight 50',
      ],
    ],
    ['threshold 0', (_s, a) => void (a.threshold = 0), ['spec.analysis.threshold: 0 must be at least 1']],
    [
      'interval below 10s',
      (_s, a) => void (a.interval = '5s'),
      ['spec.analysis.interval: 5s is less than the minimum 10s'],
    ],
    ['interval 10s is allowed', (_s, a) => void (a.interval = '10s'), []],
    ['interval 1m30s is allowed', (_s, a) => void (a.interval = '1m30s'), []],
    [
      'interval that is not a Go duration',
      (_s, a) => void (a.interval = '10sec'),
      ['spec.analysis.interval: "10sec" is not a duration (use Go syntax such as 10s, 1m30s or 500ms)'],
    ],
    [
      'thresholdRange min above max',
      (_s, a) => void (a.metrics = [{ name: 'request-success-rate', thresholdRange: { min: 99, max: 90 } }]),
      ['spec.analysis.metrics[0].thresholdRange: min 99 is greater than max 90'],
    ],
    [
      'metric without any threshold',
      (_s, a) => void (a.metrics = [{ name: 'request-success-rate' }]),
      ['spec.analysis.metrics[0].thresholdRange: is required: set min, max or both'],
    ],
    [
      "Flagger's deprecated threshold counts as a maximum",
      (_s, a) => void (a.metrics = [{ name: 'request-duration', threshold: 500 }]),
      [],
    ],
    [
      'unknown built-in metric',
      (_s, a) => void (a.metrics = [{ name: 'error-rate', thresholdRange: { max: 1 } }]),
      [
        'spec.analysis.metrics[0].name: unknown metric "error-rate": not a built-in check (request-success-rate, request-duration) and no templateRef or query is set',
      ],
    ],
    [
      'duplicate metric names',
      (_s, a) =>
        void (a.metrics = [
          { name: 'request-duration', thresholdRange: { max: 500 } },
          { name: 'request-duration', thresholdRange: { max: 900 } },
        ]),
      ['spec.analysis.metrics[1].name: Duplicate value: "request-duration" (also metrics[0])'],
    ],
    [
      'templateRef found in the canary namespace',
      (_s, a) =>
        void (a.metrics = [
          { name: 'errors', templateRef: { name: 'error-rate' }, thresholdRange: { max: 1 } },
        ]),
      [],
    ],
    [
      'templateRef not found',
      (_s, a) =>
        void (a.metrics = [
          { name: 'request-duration', thresholdRange: { max: 500 } },
          { name: 'errors', templateRef: { name: 'x', namespace: 'y' }, thresholdRange: { max: 1 } },
        ]),
      ['spec.analysis.metrics[1].templateRef: MetricTemplate "x" not found in namespace "y"'],
    ],
    [
      'template using a variable the metric does not set',
      (_s, a) =>
        void (a.metrics = [{ name: 'route', templateRef: { name: 'by-route' }, thresholdRange: { max: 1 } }]),
      ['spec.analysis.metrics[0].templateRef: MetricTemplate test/by-route: '],
    ],
    [
      'template variables supplied',
      (_s, a) =>
        void (a.metrics = [
          {
            name: 'route',
            templateRef: { name: 'by-route' },
            templateVariables: { route: '/api' },
            thresholdRange: { max: 1 },
          },
        ]),
      [],
    ],
    [
      'template with a PromQL syntax error',
      (_s, a) =>
        void (a.metrics = [{ name: 'b', templateRef: { name: 'broken' }, thresholdRange: { max: 1 } }]),
      ['spec.analysis.metrics[0].templateRef: MetricTemplate test/broken: '],
    ],
    [
      'inline query with a syntax error',
      (_s, a) => void (a.metrics = [{ name: 'q', query: 'sum(rate(x[1m])', thresholdRange: { max: 1 } }]),
      ['spec.analysis.metrics[0].query: '],
    ],
    [
      'webhook with a bad URL',
      (_s, a) => void (a.webhooks = [{ name: 'gate', type: 'confirm-rollout', url: 'ftp://gate/' }]),
      ['spec.analysis.webhooks[0].url: scheme "ftp:" is not supported; use http or https'],
    ],
    [
      'alert provider not found',
      (_s, a) => void (a.alerts = [{ name: 'team', providerRef: { name: 'nobody' } }]),
      ['spec.analysis.alerts[0].providerRef: AlertProvider "nobody" not found in namespace "test"'],
    ],
    [
      'alert provider without address or secret',
      (_s, a) =>
        void (a.alerts = [
          { name: 'team', severity: 'error', providerRef: { name: 'on-call' } },
          { name: 'other', providerRef: { name: 'empty', namespace: 'test' } },
        ]),
      ['spec.analysis.alerts[1].providerRef: AlertProvider test/empty has neither address nor secretRef'],
    ],
    [
      'valid windows',
      (_s, a) =>
        void (a.windows = [
          { cron: '0 9 * * 1-5', duration: '8h', timezone: 'Europe/Berlin' },
          { cron: '0 0 10 * * *', duration: '30m' },
        ]),
      [],
    ],
    [
      'window with a bad cron, duration and time zone',
      (_s, a) => void (a.windows = [{ cron: '61 * * * *', duration: 'long', timezone: 'Mars/Olympus' }]),
      [
        'spec.analysis.windows[0].cron: "61 * * * *" is not a cron expression: ',
        'spec.analysis.windows[0].duration: "long" is not a duration (use Go syntax such as 10s, 1m30s or 500ms)',
        'spec.analysis.windows[0].timezone: unknown time zone "Mars/Olympus"',
      ],
    ],
    [
      'provider kubernetes with weights',
      (s) => void (s.provider = 'kubernetes'),
      [
        'spec.analysis.stepWeight: provider kubernetes switches Service selectors and supports blue/green only (use iterations)',
      ],
    ],
    [
      'provider kubernetes with iterations',
      (s, a) => {
        s.provider = 'kubernetes';
        delete a.stepWeight;
        a.iterations = 10;
      },
      [],
    ],
    [
      'mirror with weights',
      (_s, a) => void (a.mirror = true),
      [
        'spec.analysis.mirror: mirroring needs blue/green: set iterations (without match) instead of stepWeight(s)',
      ],
    ],
    [
      'mirror without iterations or weights',
      (_s, a) => {
        delete a.stepWeight;
        a.mirror = true;
      },
      [
        'spec.analysis: Required value: one of iterations, stepWeight or stepWeights',
        'spec.analysis.mirror: mirroring needs blue/green: set iterations (without match) instead of stepWeight(s)',
      ],
    ],
    [
      'blue/green with mirroring and a mirrorWeight',
      (_s, a) => {
        delete a.stepWeight;
        Object.assign(a, { iterations: 2, mirror: true, mirrorWeight: 40 });
      },
      [],
    ],
    [
      'mirrorWeight without mirror',
      (_s, a) => {
        delete a.stepWeight;
        Object.assign(a, { iterations: 2, mirrorWeight: 40 });
      },
      ['spec.analysis.mirrorWeight: is set without mirror: true'],
    ],
    [
      'mirrorWeight 0',
      (_s, a) => {
        delete a.stepWeight;
        Object.assign(a, { iterations: 2, mirror: true, mirrorWeight: 0 });
      },
      ['spec.analysis.mirrorWeight: 0 must be at least 1'],
    ],
    [
      'A/B match with iterations',
      (_s, a) => {
        delete a.stepWeight;
        a.iterations = 2;
        a.match = [
          { headers: { 'x-canary': { exact: 'insider' } } },
          { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
        ];
      },
      [],
    ],
    [
      'match without iterations',
      (_s, a) => void (a.match = [{ headers: { 'x-canary': { exact: 'insider' } } }]),
      ['spec.analysis.match: A/B testing needs iterations: set iterations instead of stepWeight(s)'],
    ],
    [
      'A/B conditions that match everything, two kinds at once, sourceLabels on the fledge mesh',
      (_s, a) => {
        delete a.stepWeight;
        a.iterations = 2;
        a.match = [
          {},
          { headers: { 'x-canary': { exact: 'a', prefix: 'b' }, 'x-empty': {} } },
          { sourceLabels: { app: 'frontend' } },
        ];
      },
      [
        'spec.analysis.match[0]: matches every request: set headers or queryParams',
        'spec.analysis.match[1].headers[x-canary]: set exactly one of exact, prefix, suffix or regex (got exact, prefix)',
        'spec.analysis.match[1].headers[x-empty]: set exactly one of exact, prefix, suffix or regex (got none)',
        'spec.analysis.match[2].sourceLabels: is not supported by the fledge mesh',
      ],
    ],
    [
      'session affinity with the canary strategy',
      (_s, a) => void (a.sessionAffinity = { cookieName: 'canary-session', maxAge: 600 }),
      [],
    ],
    [
      'session affinity with blue/green, and a cookie name that is not a token',
      (_s, a) => {
        delete a.stepWeight;
        a.iterations = 2;
        a.sessionAffinity = { cookieName: 'canary session' };
      },
      [
        'spec.analysis.sessionAffinity: session affinity needs the canary strategy: set stepWeight(s) instead of iterations',
        'spec.analysis.sessionAffinity.cookieName: "canary session" is not a cookie name',
      ],
    ],
    [
      'primaryScalerReplicas min above max',
      (s) => void ((s.autoscalerRef as Obj).primaryScalerReplicas = { minReplicas: 5, maxReplicas: 2 }),
      ['spec.autoscalerRef.primaryScalerReplicas.minReplicas: 5 is greater than maxReplicas 2'],
    ],
    [
      'metricsServer not a URL',
      (s) => void (s.metricsServer = 'prometheus'),
      ['spec.metricsServer: "prometheus" is not an absolute URL'],
    ],
  ])('%s', (_name, edit, expected) => {
    const problems = problemsOf(withSpec(edit));
    // An expected entry ending in ": " checks the field and the start of the message only.
    expect(problems).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      if (e.endsWith(': ')) expect(problems[i]?.startsWith(e), problems[i]).toBe(true);
      else expect(problems[i]).toBe(e);
    });
  });

  it('collects every semantic problem, in field order', () => {
    const problems = problemsOf(
      withSpec((s, a) => {
        s.metricsServer = 'nope';
        a.stepWeight = 60;
        a.interval = '5s';
        a.metrics = [
          { name: 'x', templateRef: { name: 'x', namespace: 'y' }, thresholdRange: { min: 2, max: 1 } },
        ];
        a.webhooks = [{ name: 'w', url: 'not a url' }];
      }),
    ).map((p) => p.split(':')[0]);
    expect(problems).toEqual([
      'spec.metricsServer',
      'spec.analysis.stepWeight',
      'spec.analysis.interval',
      'spec.analysis.metrics[0].thresholdRange',
      'spec.analysis.metrics[0].templateRef',
      'spec.analysis.webhooks[0].url',
    ]);
  });
});

describe('strategyOf', () => {
  it.each<[string, Obj, string]>([
    ['stepWeight', { stepWeight: 10 }, 'canary'],
    ['stepWeights', { stepWeights: [1, 5, 10] }, 'canary'],
    ['iterations', { iterations: 10 }, 'blue-green'],
    ['iterations + mirror', { iterations: 10, mirror: true }, 'blue-green-mirroring'],
    [
      'iterations + match',
      { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
      'ab-testing',
    ],
    ['match without iterations', { stepWeight: 10, match: [{ headers: { a: { exact: 'b' } } }] }, 'canary'],
  ])('%s → %s', (_name, analysis, expected) => {
    expect(strategyOf({ analysis })).toBe(expected);
  });

  it('is what admitCanary reports', () => {
    const result = admitCanary(
      withSpec((_s, a) => {
        delete a.stepWeight;
        a.iterations = 10;
        a.match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
      }),
      lookups,
    );
    expect(result.ok && result.strategy).toBe('ab-testing');
  });
});
