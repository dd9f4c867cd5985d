// Label/field selector parsing and matching, as tables and against recorded kube-apiserver v1.26 exchanges.

import { describe, expect, it } from 'vitest';
import {
  FIELD_LABELS_METAV1_DEFAULT,
  FIELD_LABELS_REGISTERED,
  formatLabelSelector,
  labelSelectorFromObject,
  labelValueErrors,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  qualifiedNameErrors,
  type FieldSelector,
  type LabelSelector,
} from '../../sandbox/apiserver/selectors.js';
import { isObject, type Json, type JsonObject, type Result } from '../../sandbox/apiserver/types.js';
import { asObject, fixtureExchanges } from '../helpers/fixtures.js';

/** The recorded exchanges of a fixture file, flattened to what the selector tests compare. */
const loadExchanges = (file: string) =>
  fixtureExchanges(file).map(({ step = '', request, response }) => ({
    step,
    method: request.method,
    path: request.path,
    status: response.status,
    responseBody: response.body,
  }));

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function query(path: string, name: string): string | null {
  return new URL(path, 'http://fixture').searchParams.get(name);
}

function items(body: Json): JsonObject[] {
  const list = asObject(body).items;
  return Array.isArray(list) ? list.map(asObject) : [];
}

function labelsOf(item: JsonObject): Record<string, string> | undefined {
  const labels = asObject(item.metadata).labels;
  if (!isObject(labels)) return undefined;
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, str(v)]));
}

function metaFields(item: JsonObject): Record<string, string> {
  const meta = asObject(item.metadata);
  return { 'metadata.name': str(meta.name), 'metadata.namespace': str(meta.namespace) };
}

function nameOf(item: JsonObject): string {
  return str(asObject(item.metadata).name);
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`unexpected failure: ${r.error.message}`);
  return r.value;
}

function failure<T>(r: Result<T>): { code: number; reason: string; message: string } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

const label = (raw: string): LabelSelector => value(parseLabelSelector(raw));
const CONFIGMAP_FIELDS = ['metadata.name', 'metadata.namespace'] as const;

describe('parseLabelSelector + matchLabels', () => {
  const labels = { app: 'web', tier: 'front', count: '7', empty: '' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app in (db)', false],
    ['app notin (db)', true],
    ['missing notin (db)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app,tier=front', true],
    ['  app = web ,  tier in(front)  ', true],
    ['app=web,tier=back', false],
    ['empty=', true],
    ['empty in ()', true],
    ['count>5', true],
    ['count<5', false],
    ['app>5', false],
    ['in=x', false],
    ['x in (in,notin)', false],
  ])('%j matches %s', (raw, expected) => {
    expect(matchLabels(label(raw), labels)).toBe(expected);
  });

  it('matches a selector with requirements against no labels as kube does', () => {
    expect(matchLabels(label('!app'), undefined)).toBe(true);
    expect(matchLabels(label('app'), undefined)).toBe(false);
  });

  it('sorts requirements by key and de-duplicates, sorts set values', () => {
    expect(label('z=1,a in (c,b,c),m').requirements).toEqual([
      { key: 'a', operator: 'in', values: ['b', 'c'] },
      { key: 'm', operator: 'exists', values: [] },
      { key: 'z', operator: '=', values: ['1'] },
    ]);
    expect(label('x in (b,,a)').requirements[0]?.values).toEqual(['', 'a', 'b']);
    expect(label('!a').requirements).toEqual([{ key: 'a', operator: '!', values: [] }]);
  });

  it.each([
    ['a=b,!c, d notin (y,x)', 'a=b,!c,d notin (x,y)'],
    ['k8s.io/app in (a)', 'k8s.io/app in (a)'],
    ['n>3', 'n>3'],
    ['n==3', 'n==3'],
  ])('formats %j as %j', (raw, formatted) => {
    expect(formatLabelSelector(label(raw))).toBe(formatted);
  });

  const nameRule =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const valueRule =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  it.each([
    ['app in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app=a=b', "found '=', expected: ',' or 'end of string'"],
    ['Bad Key=x', "unable to parse requirement: found 'Key', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in', "unable to parse requirement: found '' expected: '('"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a,', "found '', expected: identifier after ','"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['app:web', `unable to parse requirement: <nil>: Invalid value: "app:web": ${nameRule}`],
    [
      'a/b/c=x',
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
    [
      'app.kubernetes_io/name=x',
      "unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ],
    ['a=-x', `unable to parse requirement: values[0][a]: Invalid value: "-x": ${valueRule}`],
    [
      'a>b',
      "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    [
      'a>b$',
      `unable to parse requirement: [values[0]: Invalid value: "b$": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: "b$": ${valueRule}]`,
    ],
  ])('rejects %j with 400 %j', (raw, message) => {
    expect(failure(parseLabelSelector(raw))).toEqual({ code: 400, reason: 'BadRequest', message });
  });
});

describe('label key/value validation', () => {
  it('reports each broken rule like kube', () => {
    expect(qualifiedNameErrors('example.com/app')).toEqual([]);
    expect(qualifiedNameErrors('/app')).toEqual(['prefix part must be non-empty']);
    expect(qualifiedNameErrors('a/')[0]).toBe('name part must be non-empty');
    expect(qualifiedNameErrors('x'.repeat(64))).toEqual(['name part must be no more than 63 characters']);
    expect(labelValueErrors('')).toEqual([]);
    expect(labelValueErrors('v'.repeat(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('labelSelectorFromObject', () => {
  it('treats a missing selector as matching nothing and an empty one as matching everything', () => {
    const nothing = value(labelSelectorFromObject(undefined));
    expect(matchLabels(nothing, {})).toBe(false);
    expect(matchLabels(nothing, { app: 'web' })).toBe(false);
    expect(matchLabels(value(labelSelectorFromObject({})), undefined)).toBe(true);
  });

  it('ANDs matchLabels and matchExpressions', () => {
    const sel = value(
      labelSelectorFromObject({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front', 'edge'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'track', operator: 'NotIn', values: ['stable'] },
          { key: 'zone', operator: 'Exists', values: [] },
        ],
      }),
    );
    expect(matchLabels(sel, { app: 'web', tier: 'edge', zone: 'a' })).toBe(true);
    expect(matchLabels(sel, { app: 'web', tier: 'edge', zone: 'a', canary: 'x' })).toBe(false);
    expect(matchLabels(sel, { app: 'web', tier: 'edge', zone: 'a', track: 'stable' })).toBe(false);
    expect(matchLabels(sel, { app: 'web', tier: 'back', zone: 'a' })).toBe(false);
    expect(formatLabelSelector(sel)).toBe('app=web,!canary,tier in (edge,front),track notin (stable),zone');
  });

  it.each<[JsonObject, string]>([
    [
      { matchExpressions: [{ key: 'a', operator: 'Bogus' }] },
      '"Bogus" is not a valid label selector operator',
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    ],
    [
      { matchLabels: { 'a b': 'x' } },
      "key: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
  ])('rejects %j', (sel, message) => {
    expect(failure(labelSelectorFromObject(sel))).toMatchObject({ code: 400, reason: 'BadRequest', message });
  });
});

describe('parseFieldSelector + matchFields', () => {
  const fields = { 'metadata.name': 'web', 'metadata.namespace': 'prod' };
  const parse = (raw: string): FieldSelector =>
    value(parseFieldSelector(raw, CONFIGMAP_FIELDS, FIELD_LABELS_METAV1_DEFAULT));
  it.each([
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name!=web', false],
    ['metadata.name=web,metadata.namespace=prod', true],
    ['metadata.name=web,metadata.namespace!=prod', false],
    ['metadata.name=db,', false],
  ])('%j matches %s', (raw, expected) => {
    expect(matchFields(parse(raw), fields)).toBe(expected);
  });

  it('unescapes values and treats a missing field as empty', () => {
    expect(parse('metadata.name=a\\,b\\=c\\\\').requirements).toEqual([
      { field: 'metadata.name', operator: '=', value: 'a,b=c\\' },
    ]);
    expect(matchFields(parse('metadata.name='), {})).toBe(true);
    expect(matchFields(parse('metadata.name!='), {})).toBe(false);
  });

  it.each([
    [
      'data.key=value',
      FIELD_LABELS_METAV1_DEFAULT,
      '"data.key" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    [
      'metadata.name =x',
      FIELD_LABELS_METAV1_DEFAULT,
      '"metadata.name " is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    ['spec.size=small', FIELD_LABELS_REGISTERED, 'field label not supported: spec.size'],
    ['spec.x=1', 'appsv1beta2.StatefulSet', 'field label not supported for appsv1beta2.StatefulSet: spec.x'],
    ['z.z=1,b.b=2', FIELD_LABELS_REGISTERED, 'field label not supported: b.b'],
    [
      'metadata.name',
      FIELD_LABELS_REGISTERED,
      "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    ],
    [
      'metadata.name=a=b',
      FIELD_LABELS_REGISTERED,
      'invalid field selector: unescaped character in value: 61',
    ],
    ['metadata.name=a\\x', FIELD_LABELS_REGISTERED, 'invalid field selector: invalid escape sequence: \\x'],
    ['metadata.name=a\\', FIELD_LABELS_REGISTERED, 'invalid field selector: invalid escape sequence: \\'],
  ])('rejects %j (%j) with 400 %j', (raw, resourceLabel, message) => {
    expect(failure(parseFieldSelector(raw, CONFIGMAP_FIELDS, resourceLabel))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message,
    });
  });
});

describe('fixtures: 04-errors.json selector failures', () => {
  const exchanges = loadExchanges('04-errors.json');
  const labelCases = exchanges.filter((e) => query(e.path, 'labelSelector') !== null && e.status === 400);
  const fieldCases = exchanges.filter((e) => query(e.path, 'fieldSelector') !== null && e.status === 400);

  it('has the recorded cases', () => {
    expect(labelCases).toHaveLength(3);
    expect(fieldCases).toHaveLength(2);
  });

  it.each(labelCases.map((e) => [e.step, e] as const))('labelSelector: %s', (_step, e) => {
    const body = asObject(e.responseBody);
    expect(failure(parseLabelSelector(query(e.path, 'labelSelector') ?? ''))).toEqual({
      code: body.code,
      reason: body.reason,
      message: body.message,
    });
  });

  it.each(fieldCases.map((e) => [e.step, e] as const))('fieldSelector: %s', (_step, e) => {
    const body = asObject(e.responseBody);
    // Built-in ConfigMaps use the metav1 default conversion; custom resources register their own.
    const wording = e.path.startsWith('/api/v1/') ? FIELD_LABELS_METAV1_DEFAULT : FIELD_LABELS_REGISTERED;
    expect(
      failure(parseFieldSelector(query(e.path, 'fieldSelector') ?? '', CONFIGMAP_FIELDS, wording)),
    ).toEqual({
      code: body.code,
      reason: body.reason,
      message: body.message,
    });
  });
});

describe('fixtures: 10-list-selectors.json', () => {
  const exchanges = loadExchanges('10-list-selectors.json');
  // The resourceVersion=0 list returns every ConfigMap of the namespace.
  const all = exchanges.find((e) => e.path.includes('resourceVersion=0'));
  const universe = all === undefined ? [] : items(all.responseBody);
  const filtered = exchanges.filter(
    (e) =>
      e.method === 'GET' &&
      e.status === 200 &&
      e.path.startsWith('/api/v1/namespaces/fixtures/configmaps?') &&
      query(e.path, 'limit') === null &&
      (query(e.path, 'labelSelector') !== null || query(e.path, 'fieldSelector') !== null),
  );

  it('has the full namespace listing and the selector cases', () => {
    expect(universe.map(nameOf)).toEqual(['kube-root-ca.crt', 'sel-a', 'sel-b', 'sel-c', 'sel-none']);
    expect(filtered.length).toBeGreaterThanOrEqual(12);
  });

  it.each(filtered.map((e) => [e.path, e] as const))('%s selects what kube selected', (_path, e) => {
    const sel = label(query(e.path, 'labelSelector') ?? '');
    const fieldSel = value(
      parseFieldSelector(query(e.path, 'fieldSelector') ?? '', CONFIGMAP_FIELDS, FIELD_LABELS_METAV1_DEFAULT),
    );
    const selected = universe.filter(
      (item) => matchLabels(sel, labelsOf(item)) && matchFields(fieldSel, metaFields(item)),
    );
    expect(selected.map(nameOf)).toEqual(items(e.responseBody).map(nameOf));
  });

  it('custom resource lists only return matching Widgets', () => {
    const widgetCases = exchanges.filter((e) =>
      e.path.startsWith('/apis/example.com/v1/namespaces/fixtures/widgets?'),
    );
    expect(widgetCases).toHaveLength(2);
    for (const e of widgetCases) {
      const sel = label(query(e.path, 'labelSelector') ?? '');
      const fieldSel = value(
        parseFieldSelector(query(e.path, 'fieldSelector') ?? '', CONFIGMAP_FIELDS, FIELD_LABELS_REGISTERED),
      );
      const returned = items(e.responseBody);
      expect(returned.length).toBeGreaterThan(0);
      for (const item of returned) {
        expect(matchLabels(sel, labelsOf(item)) && matchFields(fieldSel, metaFields(item))).toBe(true);
      }
    }
  });
});

describe('fixtures: field selectors on Events and watches', () => {
  const CORE_EVENT_FIELDS = [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    'metadata.namespace',
    'metadata.name',
  ];
  const EVENTS_V1_FIELDS = [
    'reason',
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reportingController',
    'type',
    'metadata.namespace',
    'metadata.name',
  ];
  const exchanges = loadExchanges('14-events-leases.json');

  it('core Events selected by involvedObject fields', () => {
    const e = exchanges.find((x) => x.path.startsWith('/api/v1/namespaces/fixtures/events?fieldSelector='));
    expect(e).toBeDefined();
    const sel = value(parseFieldSelector(query(e?.path ?? '', 'fieldSelector') ?? '', CORE_EVENT_FIELDS, ''));
    expect(sel.requirements.map((r) => r.field)).toEqual(['involvedObject.kind', 'involvedObject.name']);
    const returned = items(e?.responseBody ?? null);
    expect(returned.length).toBeGreaterThan(0);
    for (const item of returned) {
      const involved = asObject(item.involvedObject);
      const fields = { 'involvedObject.kind': str(involved.kind), 'involvedObject.name': str(involved.name) };
      expect(matchFields(sel, fields)).toBe(true);
      expect(matchFields(sel, { ...fields, 'involvedObject.kind': 'Pod' })).toBe(false);
    }
    expect(failure(parseFieldSelector('involvedObject.bogus=x', CORE_EVENT_FIELDS, '')).message).toBe(
      'field label not supported: involvedObject.bogus',
    );
  });

  it('events.k8s.io Events selected by regarding fields', () => {
    const e = exchanges.find((x) => x.path.startsWith('/apis/events.k8s.io/v1/namespaces/fixtures/events?'));
    const sel = value(parseFieldSelector(query(e?.path ?? '', 'fieldSelector') ?? '', EVENTS_V1_FIELDS, ''));
    const returned = items(e?.responseBody ?? null);
    expect(returned.length).toBeGreaterThan(0);
    for (const item of returned) {
      expect(matchFields(sel, { 'regarding.name': str(asObject(item.regarding).name) })).toBe(true);
    }
  });

  it('a watch by metadata.name only streams that object', () => {
    const watch = loadExchanges('11-watch.json').find((x) => query(x.path, 'fieldSelector') !== null);
    const sel = value(
      parseFieldSelector(
        query(watch?.path ?? '', 'fieldSelector') ?? '',
        CONFIGMAP_FIELDS,
        FIELD_LABELS_REGISTERED,
      ),
    );
    const events = Array.isArray(watch?.responseBody) ? watch.responseBody : [];
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(matchFields(sel, metaFields(asObject(asObject(event).object)))).toBe(true);
    }
    expect(matchFields(sel, { 'metadata.name': 'alpha', 'metadata.namespace': 'fixtures' })).toBe(false);
  });
});
