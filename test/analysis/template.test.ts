// MetricTemplate queries: rendering every variable and whitespace form, errors that name the key and where,
// PromQL syntax errors with their position, and the admission check that combines both.
import { describe, expect, it } from 'vitest';
import type { TemplateVars } from '../../analysis/template.js';
import { checkPromql, renderTemplate, validateTemplateQuery } from '../../analysis/template.js';

const vars: TemplateVars = {
  name: 'web',
  namespace: 'shop',
  target: 'web-deploy',
  service: 'web-svc',
  interval: '2m',
  variables: { direction: 'inbound', code_re: '5..' },
};

describe('renderTemplate', () => {
  const cases: { name: string; query: string; want: string }[] = [
    { name: 'name', query: '{{ name }}', want: 'web' },
    { name: 'namespace', query: '{{ namespace }}', want: 'shop' },
    { name: 'target', query: '{{ target }}', want: 'web-deploy' },
    { name: 'service', query: '{{ service }}', want: 'web-svc' },
    { name: 'interval', query: '{{ interval }}', want: '2m' },
    { name: 'variables.KEY', query: '{{ variables.direction }}', want: 'inbound' },
    { name: 'no spaces', query: '{{target}}/{{variables.code_re}}', want: 'web-deploy/5..' },
    { name: 'extra spaces, tabs and newlines', query: '{{   name\t}} {{\n namespace \n}}', want: 'web shop' },
    { name: 'one space one side', query: '{{ name}}-{{namespace }}', want: 'web-shop' },
    { name: 'Go trim markers', query: 'a  {{- name -}}  b', want: 'aweb' + 'b' },
    { name: 'a dash without a space is not a trim marker', query: 'x-{{ name }}-y', want: 'x-web-y' },
    { name: 'no actions at all', query: 'up{job="x"}', want: 'up{job="x"}' },
    { name: 'single braces of PromQL stay', query: 'm{a="{{ name }}"}', want: 'm{a="web"}' },
    {
      name: 'a full query',
      query:
        'sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{ target }}-.*",' +
        'direction="{{ variables.direction }}"}[{{ interval }}]))',
      want: 'sum(rate(http_requests_total{namespace="shop",pod=~"web-deploy-.*",direction="inbound"}[2m]))',
    },
  ];
  it.each(cases)('$name', ({ query, want }) => {
    expect(renderTemplate(query, vars)).toEqual({ ok: true, value: want });
  });

  it('inserts values verbatim, as Flagger does', () => {
    expect(renderTemplate('"{{ name }}"', { ...vars, name: 'a"b' })).toEqual({ ok: true, value: '"a"b"' });
  });

  const errors: { name: string; query: string; want: RegExp[] }[] = [
    {
      name: 'a variables.KEY the metric does not set: names it, where, and how to fix it',
      query: 'up{a="x"}\n  or {{ variables.missing }}',
      want: [/"variables\.missing"/, /line 2, column 6/, /add "missing" to the metric's templateVariables/],
    },
    {
      name: 'an unknown key names the key, its position and the known keys',
      query: 'rate(x[{{ interval }}]) * {{ foo }}',
      want: [
        /unknown template variable "foo" at line 1, column 27/,
        /known: name, namespace, target, service, interval, variables\.KEY/,
      ],
    },
    {
      name: "Flagger's ingress is unknown here, with a hint",
      query: '{{ ingress }}',
      want: [/unknown template variable "ingress" at line 1, column 1 \(Flagger sets it/],
    },
    {
      name: 'a nested variables path',
      query: '{{ variables.a.b }}',
      want: [/"variables\.a\.b" at line 1, column 1 is not of the form variables\.KEY/],
    },
    {
      name: 'a bare variables',
      query: '{{ variables }}',
      want: [/"variables" at line 1, column 1 is not of/],
    },
    {
      name: 'a pipeline is not a plain variable',
      query: '{{ name | printf "%s" }}',
      want: [/unsupported template expression "name \| printf \\"%s\\"" at line 1, column 1/],
    },
    { name: 'Go dot syntax', query: '{{ .name }}', want: [/unsupported template expression "\.name"/] },
    {
      name: 'an empty action',
      query: 'a {{ }}',
      want: [/empty template action \{\{ \}\} at line 1, column 3/],
    },
    { name: 'an unclosed action', query: 'x\ny {{ name', want: [/unclosed "\{\{" at line 2, column 3/] },
    {
      name: 'every problem is reported, not only the first',
      query: '{{ a }} {{ b }}',
      want: [/"a" at line 1, column 1/, /"b" at line 1, column 9/],
    },
  ];
  it.each(errors)('error: $name', ({ query, want }) => {
    const r = renderTemplate(query, vars);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    for (const re of want) expect(r.message).toMatch(re);
  });

  it('a key that is an inherited property name is still missing', () => {
    const r = renderTemplate('{{ variables.constructor }}', { ...vars, variables: {} });
    expect(r).toMatchObject({ ok: false });
  });
});

describe('checkPromql', () => {
  const valid = [
    'up',
    'sum(rate(http_requests_total{code!~"5.."}[1m])) by (le)',
    // a complex query: binary ops with matching, subquery, offset, aggregation with without, functions
    `histogram_quantile(
       0.99,
       sum by (le) (rate(http_request_duration_seconds_bucket{namespace="test",pod=~"podinfo-[a-z0-9]+"}[1m]))
     ) * 1000
     / on (namespace) group_left ()
     max without (instance) (max_over_time(up{job="a"}[5m:30s] offset 1m))
     > bool 0.5
     or vector(0)`,
    'label_replace(up, "dst", "$1", "src", "(.*)")',
    'topk(3, sum by (pod) (rate(x_total[5m])))',
  ];
  it.each(valid)('accepts %s', (q) => {
    expect(checkPromql(q)).toEqual({ ok: true });
  });

  const invalid: { name: string; query: string; line: number; column: number; what: RegExp }[] = [
    {
      name: 'an extra closing parenthesis',
      query: 'rate(foo{a="b"}[1m]) ) ',
      line: 1,
      column: 22,
      what: /unexpected "\)"/,
    },
    {
      name: 'a missing closing parenthesis',
      query: 'sum(rate(foo[1m])',
      line: 1,
      column: 18,
      what: /end of input/,
    },
    { name: 'a matcher without a value', query: 'foo{a=}', line: 1, column: 7, what: /unexpected "\}"/ },
    { name: 'two selectors in a row', query: 'foo bar', line: 1, column: 5, what: /unexpected "bar"/ },
    {
      name: 'an error on a later line',
      query: 'sum(rate(x[1m]))\n  /\n  sum(rate(y[1m])) *',
      line: 3,
      column: 21,
      what: /end of input/,
    },
    {
      name: 'an unknown function',
      query: 'rat(x[1m])',
      line: 1,
      column: 4,
      what: /"rat", which is not a PromQL function/,
    },
    { name: 'a bad duration', query: 'rate(x[5zz])', line: 1, column: 9, what: /unexpected "zz"/ },
    {
      name: 'an unrendered template action',
      query: 'x{{ name }}',
      line: 1,
      column: 3,
      what: /unexpected "\{"/,
    },
  ];
  it.each(invalid)('reports $name with its position', ({ query, line, column, what }) => {
    const r = checkPromql(query);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.position).toEqual({ line, column });
    expect(r.message).toMatch(new RegExp(`^PromQL syntax error at line ${line}, column ${column}: `));
    expect(r.message).toMatch(what);
  });

  it('an empty query is an error, not a pass', () => {
    expect(checkPromql('  \n ')).toEqual({
      ok: false,
      message: 'PromQL syntax error at line 1, column 1: the query is empty',
      position: { line: 1, column: 1 },
    });
  });
});

describe('validateTemplateQuery', () => {
  it('renders with the sample values and accepts valid PromQL', () => {
    const r = validateTemplateQuery(
      'sum(rate(m{ns="{{ namespace }}",n="{{ name }}",t="{{ target }}",s="{{ service }}"}[{{ interval }}]))',
      'prometheus',
    );
    expect(r).toEqual({ ok: true, value: 'sum(rate(m{ns="test",n="podinfo",t="podinfo",s="podinfo"}[1m]))' });
  });

  it('reports a syntax error at its position in the template, not in the rendered text', () => {
    // `{{ namespace }}` renders shorter than it is written: the column must still point into the template.
    const query = 'sum(rate(m{ns="{{ namespace }}"}[{{ interval }}])))';
    const r = validateTemplateQuery(query, 'prometheus');
    expect(r).toMatchObject({ ok: false, position: { line: 1, column: query.length } });
    expect(r.ok || r.message).toBe(`PromQL syntax error at line 1, column ${query.length}: unexpected ")"`);
  });

  it('an error inside a substituted value points at its action and shows the value', () => {
    const r = validateTemplateQuery('rate(x[{{ variables.window }}])', 'prometheus', {
      variables: { window: '5 minutes' },
    });
    expect(r).toMatchObject({ ok: false, position: { line: 1, column: 8 } });
    expect(r.ok || r.message).toMatch(
      /in the value substituted for \{\{ variables\.window \}\}: "5 minutes"/,
    );
  });

  it('a MetricTemplate alone: variables get placeholders that fit a duration or a label value', () => {
    expect(
      validateTemplateQuery('rate(x{d="{{ variables.dir }}"}[{{ variables.window }}])', 'prometheus'),
    ).toEqual({ ok: true, value: 'rate(x{d="1m"}[1m])' });
    expect(validateTemplateQuery('{{ variables.metric }}{a="b"}', 'prometheus')).toEqual({
      ok: true,
      value: 'placeholder{a="b"}',
    });
  });

  it('a Canary with its templateVariables: a missing one is an error', () => {
    const r = validateTemplateQuery('x{d="{{ variables.dir }}"}', 'prometheus', { variables: {} });
    expect(r.ok || r.message).toMatch(/"variables\.dir" at line 1, column 6 has no value/);
  });

  it("uses the metric's interval when given", () => {
    expect(validateTemplateQuery('rate(x[{{ interval }}])', 'prometheus', { interval: '30s' })).toEqual({
      ok: true,
      value: 'rate(x[30s])',
    });
  });

  it('unknown keys are errors for every provider type', () => {
    for (const type of ['prometheus', 'datadog', 'graphite', 'influxdb', 'newrelic']) {
      const r = validateTemplateQuery('q {{ nope }}', type);
      expect(r.ok || r.message).toMatch(/unknown template variable "nope" at line 1, column 3/);
    }
  });

  it('only prometheus queries are checked for PromQL syntax', () => {
    const datadog = 'sum:istio.mesh.request.count{destination_workload:{{ target }}}.as_count()';
    expect(validateTemplateQuery(datadog, 'datadog')).toEqual({
      ok: true,
      value: 'sum:istio.mesh.request.count{destination_workload:podinfo}.as_count()',
    });
    expect(validateTemplateQuery(datadog, 'prometheus').ok).toBe(false);
  });

  it('an unknown provider type and an empty query are errors', () => {
    expect(validateTemplateQuery('up', 'cloudwatchz')).toEqual({
      ok: false,
      message:
        'unknown provider type "cloudwatchz"; expected one of prometheus, datadog, graphite, influxdb, newrelic',
    });
    expect(validateTemplateQuery(' ', 'prometheus')).toEqual({ ok: false, message: 'the query is empty' });
  });
});
