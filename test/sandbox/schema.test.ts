// Structural-schema pruning, defaulting, validation and fieldValidation, checked against tables and the
// recorded kube-apiserver v1.26 Widget exchanges.
import { describe, expect, it } from 'vitest';
import type { Json, JsonObject, StatusCause } from '../../sandbox/apiserver/types.js';
import { clone } from '../../sandbox/apiserver/types.js';
import {
  applyDefaults,
  checkBodyFields,
  checkPatchFields,
  defaultPropertyOrder,
  fieldValidationProblems,
  findDuplicateFields,
  goJsonMarshal,
  parseFieldValidation,
  prune,
  unknownFields,
  validate,
  validateEmbedded,
  validateListTypes,
  validateScaleReplicas,
  warningHeader,
} from '../../sandbox/apiserver/schema.js';
import { formatInvalidMessage, validateObjectMeta } from '../../sandbox/apiserver/validation/meta.js';
import type { FixtureExchange } from '../helpers/fixtures.js';
import { asObject, asString, fixtureExchange } from '../helpers/fixtures.js';

const widgetCrd = asObject(fixtureExchange('01-discovery.json', 1).request.body);
const widgetVersion = asObject((asObject(widgetCrd['spec'])['versions'] as Json[])[0]);
const widgetSchema = asObject(asObject(widgetVersion['schema'])['openAPIV3Schema']);
const widgetScale = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
};

function warnings(ex: FixtureExchange): string[] {
  const w = ex.response.headers['warning'];
  return Array.isArray(w) ? w.map(String) : [];
}

/** The body as the server would store it after decoding: pruned and defaulted. */
function admitted(body: JsonObject): { object: JsonObject; pruned: string[] } {
  const object = clone(body);
  const pruned = prune(object, widgetSchema);
  applyDefaults(object, widgetSchema);
  return { object, pruned };
}

/** What kube reports for a Widget create: metadata, schema, then scale causes. */
function widgetCauses(object: JsonObject): StatusCause[] {
  const meta = { ...asObject(object['metadata']), namespace: 'fixtures' };
  return [
    ...validateObjectMeta(meta, { namespaced: true }),
    ...validate(object, widgetSchema),
    ...validateScaleReplicas(object, widgetScale),
  ];
}

describe('Widget fixtures: pruning and defaulting (02-cr-create.json)', () => {
  it.each([0, 1, 2, 3])('exchange %i: stored spec and Warning headers match', (i) => {
    const ex = fixtureExchange('02-cr-create.json', i);
    const { object, pruned } = admitted(asObject(ex.request.body));
    const recorded = asObject(ex.response.body);
    // The server generates a name from generateName before validating.
    asObject(object['metadata'])['name'] = asObject(recorded['metadata'])['name'] ?? null;
    expect(object['spec']).toEqual(recorded['spec']);
    expect(Object.keys(object).sort()).toEqual(Object.keys(recorded).sort());
    expect(pruned.map((p) => warningHeader(`unknown field "${p}"`))).toEqual(warnings(ex));
    expect(widgetCauses(object)).toEqual([]);
  });

  it('keeps x-kubernetes-preserve-unknown-fields content and drops top-level junk', () => {
    const { object, pruned } = admitted(asObject(fixtureExchange('02-cr-create.json', 0).request.body));
    expect(pruned).toEqual(['junk', 'spec.bogus']);
    expect(asObject(object['spec'])['extra']).toEqual({ anything: { nested: [1, 'two', true] }, flag: true });
  });
});

describe('Widget fixtures: validation causes (03-cr-invalid.json and others)', () => {
  const invalidCases: [string, number][] = [
    ['03-cr-invalid.json', 0],
    ['03-cr-invalid.json', 1],
    ['03-cr-invalid.json', 2],
    ['03-cr-invalid.json', 3],
    ['03-cr-invalid.json', 4],
  ];
  it.each(invalidCases)('%s #%i: causes, their order and the message', (file, i) => {
    const ex = fixtureExchange(file, i);
    const { object, pruned } = admitted(asObject(ex.request.body));
    const causes = widgetCauses(object);
    const status = asObject(ex.response.body);
    expect(causes).toEqual(asObject(status['details'])['causes']);
    const name = asString(asObject(object['metadata'])['name']);
    expect(formatInvalidMessage('Widget.example.com', name, causes)).toBe(status['message']);
    expect(pruned.map((p) => warningHeader(`unknown field "${p}"`))).toEqual(warnings(ex));
  });

  it('05-status-subresource #8: a status field of the wrong type', () => {
    const ex = fixtureExchange('05-status-subresource.json', 8);
    const stored = asObject(fixtureExchange('05-status-subresource.json', 7).response.body);
    const patched = clone(stored);
    asObject(patched['status'])['weight'] = asObject(asObject(ex.request.body)['status'])['weight'] ?? null;
    expect(validate(patched, widgetSchema)).toEqual(
      asObject(asObject(ex.response.body)['details'])['causes'],
    );
  });

  it('06-scale-subresource #8: scaling beyond the schema maximum', () => {
    const ex = fixtureExchange('06-scale-subresource.json', 8);
    const stored = clone(asObject(fixtureExchange('06-scale-subresource.json', 4).response.body));
    asObject(stored['spec'])['replicas'] = 11;
    const causes = [...validate(stored, widgetSchema), ...validateScaleReplicas(stored, widgetScale)];
    expect(causes).toEqual(asObject(asObject(ex.response.body)['details'])['causes']);
  });

  it('09-patches #18: a merge patch producing an enum violation', () => {
    const ex = fixtureExchange('09-patches.json', 18);
    const stored = clone(asObject(fixtureExchange('09-patches.json', 16).response.body));
    asObject(stored['spec'])['size'] = 'huge';
    expect(validate(stored, widgetSchema)).toEqual(asObject(asObject(ex.response.body)['details'])['causes']);
  });
});

describe('Widget fixtures: fieldValidation', () => {
  const widget = { kind: 'Widget', version: 'v1' };

  it('03 #6: Strict with unknown fields is a 400 listing them', () => {
    const ex = fixtureExchange('03-cr-invalid.json', 6);
    const r = checkBodyFields(JSON.stringify(ex.request.body), widgetSchema, { mode: 'Strict', ...widget });
    const status = asObject(ex.response.body);
    expect(r).toEqual({ ok: false, error: { code: 400, reason: 'BadRequest', message: status['message'] } });
  });

  it('03 #7: Strict with a duplicate field in the raw body is a 400', () => {
    const ex = fixtureExchange('03-cr-invalid.json', 7);
    const r = checkBodyFields(asString(ex.request.body), widgetSchema, { mode: 'Strict', ...widget });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe(asObject(ex.response.body)['message']);
  });

  it('03 #8: Warn (the default) turns the duplicate into a Warning and keeps the last value', () => {
    const ex = fixtureExchange('03-cr-invalid.json', 8);
    const raw = asString(ex.request.body);
    const r = checkBodyFields(raw, widgetSchema, { mode: 'Warn', ...widget });
    expect(r.ok && r.value.map(warningHeader)).toEqual(warnings(ex));
    const { object } = admitted(asObject(JSON.parse(raw) as Json));
    expect(object['spec']).toEqual(asObject(ex.response.body)['spec']);
  });

  it('03 #9: Ignore reports nothing and still prunes', () => {
    const ex = fixtureExchange('03-cr-invalid.json', 9);
    const r = checkBodyFields(JSON.stringify(ex.request.body), widgetSchema, { mode: 'Ignore', ...widget });
    expect(r).toEqual({ ok: true, value: [] });
    expect(warnings(ex)).toEqual([]);
    expect(admitted(asObject(ex.request.body)).object['spec']).toEqual(asObject(ex.response.body)['spec']);
  });

  it('09 #19 and #20: a merge patch adding an unknown field warns, or with Strict is a 422 on the patched object', () => {
    const stored = asObject(fixtureExchange('09-patches.json', 19).response.body);
    const patched = clone(stored);
    asObject(patched['spec'])['bogus'] = 'x';
    const warn = checkPatchFields(widgetSchema, {
      mode: 'Warn',
      patched,
      mergePatchBody: '{"spec":{"bogus":"x"}}',
    });
    expect(warn.ok && warn.value.map(warningHeader)).toEqual(
      warnings(fixtureExchange('09-patches.json', 19)),
    );

    const strictEx = fixtureExchange('09-patches.json', 20);
    const strict = checkPatchFields(widgetSchema, { mode: 'Strict', patched });
    const status = asObject(strictEx.response.body);
    expect(strict).toEqual({
      ok: false,
      error: {
        code: 422,
        reason: 'Invalid',
        message: status['message'],
        causes: asObject(status['details'])['causes'],
      },
    });
  });

  it('fieldValidationProblems gives the bare strict decoding error', () => {
    const r = fieldValidationProblems('{"spec":{"name":"a","name":"b","x":1}}', widgetSchema, 'Strict');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(
        'strict decoding error: duplicate field "spec.name", unknown field "spec.x"',
      );
    }
    expect(fieldValidationProblems('{"spec":{"x":1}}', undefined, 'Strict')).toEqual({ ok: true, value: [] });
    expect(fieldValidationProblems('not json', widgetSchema, 'Strict')).toEqual({ ok: true, value: [] });
  });

  it('parseFieldValidation defaults to Warn and rejects other values with 422', () => {
    expect(parseFieldValidation(undefined, 'create')).toEqual({ ok: true, value: 'Warn' });
    expect(parseFieldValidation('Strict', 'patch')).toEqual({ ok: true, value: 'Strict' });
    const bad = parseFieldValidation('strict', 'create');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe(422);
      expect(bad.error.message).toBe(
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Strict", "Warn"',
      );
    }
  });

  it('finds duplicates at any depth, in document order', () => {
    expect(findDuplicateFields('{"a":1,"b":{"c":[{"d":1,"d":2},{"e":{"f":1,"f":2}}]},"a":3}')).toEqual([
      'b.c[0].d',
      'b.c[1].e.f',
      'a',
    ]);
    expect(findDuplicateFields('{"a\\"b":1,"a\\"b":2}')).toEqual(['a"b']);
    expect(findDuplicateFields('{"a":1,"a":')).toEqual(['a']);
    expect(findDuplicateFields('[1, {"x": true, "y": null}]')).toEqual([]);
  });

  it('formats Warning headers with quotes and backslashes escaped', () => {
    expect(warningHeader('unknown field "spec.a\\b"')).toBe('299 - "unknown field \\"spec.a\\\\b\\""');
  });
});

describe('prune', () => {
  const schema: JsonObject = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          list: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          nested: {
            type: 'object',
            additionalProperties: { type: 'object', properties: { keep: { type: 'integer' } } },
          },
          free: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            properties: { typed: { type: 'object', properties: { only: { type: 'string' } } } },
          },
          template: {
            type: 'object',
            'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: { image: { type: 'string' } } } },
          },
          maybe: { type: 'string', nullable: true },
          gone: { type: 'string' },
          defaulted: { type: 'string', default: 'd' },
        },
      },
    },
  };

  it('drops undeclared fields everywhere and reports them sorted, then metadata fields', () => {
    const o: JsonObject = {
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: 'n', bogusMeta: 1, ownerReferences: [{ name: 'o', extra: 1 }] },
      spec: {
        list: [{ a: 'x', b: 'y' }, { c: 1 }],
        labels: { k: 'v' },
        nested: { one: { keep: 1, drop: 2 } },
        free: { anything: { deep: true }, typed: { only: 'x', not: 'y' } },
        template: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', junk: true },
          spec: { image: 'i', command: ['x'] },
          extra: 1,
        },
        maybe: null,
        gone: null,
        defaulted: null,
      },
      zzz: 1,
    };
    const paths = prune(o, schema);
    expect(paths).toEqual([
      'spec.free.typed.not',
      'spec.list[0].b',
      'spec.list[1].c',
      'spec.nested.one.drop',
      'spec.template.extra',
      'spec.template.spec.command',
      'zzz',
      'metadata.bogusMeta',
      'metadata.ownerReferences[0].extra',
      'spec.template.metadata.junk',
    ]);
    expect(o).toEqual({
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: 'n', ownerReferences: [{ name: 'o' }] },
      spec: {
        list: [{ a: 'x' }, {}],
        labels: { k: 'v' },
        nested: { one: { keep: 1 } },
        free: { anything: { deep: true }, typed: { only: 'x' } },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { image: 'i' } },
        maybe: null,
        defaulted: null,
      },
    });
  });

  it('prunes apiVersion and kind that are not strings, and everything under a schema-less value', () => {
    const o: JsonObject = { apiVersion: 1, kind: 'K', spec: { gone: { a: 1 } } };
    expect(prune(o, { type: 'object', properties: { spec: { type: 'object', properties: {} } } })).toEqual([
      'apiVersion',
      'spec.gone',
    ]);
  });

  it('unknownFields leaves the object untouched', () => {
    const o: JsonObject = { spec: { name: 'a', bogus: 1 } };
    expect(unknownFields(o, widgetSchema)).toEqual(['spec.bogus']);
    expect(o).toEqual({ spec: { name: 'a', bogus: 1 } });
  });
});

describe('applyDefaults', () => {
  const schema: JsonObject = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        default: {},
        properties: {
          size: { type: 'string', default: 'small' },
          inner: { type: 'object', properties: { x: { type: 'integer', default: 1 } } },
          list: {
            type: 'array',
            items: { type: 'object', properties: { p: { type: 'integer', default: 80 } } },
          },
          map: { type: 'object', additionalProperties: { type: 'string', default: 'v' } },
          nulls: {
            type: 'object',
            properties: {
              keepNull: { type: 'string', nullable: true, default: 'n' },
              nullDefault: { type: 'string', default: 'y' },
              nullDrop: { type: 'string' },
            },
          },
        },
      },
    },
  };

  it.each<[string, JsonObject, JsonObject]>([
    ['defaults an absent object and then its fields', {}, { spec: { size: 'small' } }],
    ['keeps given values', { spec: { size: 'large' } }, { spec: { size: 'large' } }],
    ['does not create missing parents', { spec: {} }, { spec: { size: 'small' } }],
    [
      'defaults inside existing objects',
      { spec: { inner: {} } },
      { spec: { size: 'small', inner: { x: 1 } } },
    ],
    [
      'defaults list items',
      { spec: { list: [{}, { p: 1 }] } },
      { spec: { size: 'small', list: [{ p: 80 }, { p: 1 }] } },
    ],
    [
      'replaces a null map value',
      { spec: { map: { a: null, b: 'b' } } },
      { spec: { size: 'small', map: { a: 'v', b: 'b' } } },
    ],
    [
      'keeps null when nullable, replaces a non-nullable null by the default, drops one without default',
      { spec: { nulls: { keepNull: null, nullDefault: null, nullDrop: null } } },
      { spec: { size: 'small', nulls: { keepNull: null, nullDefault: 'y' } } },
    ],
    [
      'defaults absent fields of an existing object',
      { spec: { nulls: {} } },
      { spec: { size: 'small', nulls: { keepNull: 'n', nullDefault: 'y' } } },
    ],
  ])('%s', (_name, input, want) => {
    const o = clone(input);
    applyDefaults(o, schema);
    expect(o).toEqual(want);
  });

  it('copies defaults instead of sharing them', () => {
    const a: JsonObject = {};
    const b: JsonObject = {};
    applyDefaults(a, schema);
    applyDefaults(b, schema);
    asObject(a['spec'])['size'] = 'changed';
    expect(asObject(b['spec'])['size']).toBe('small');
  });
});

describe('validate', () => {
  const wrap = (prop: JsonObject): JsonObject => ({
    type: 'object',
    properties: { spec: { type: 'object', properties: { f: prop } } },
  });
  const check = (prop: JsonObject, value: Json): StatusCause[] =>
    validate({ spec: { f: value } }, wrap(prop));
  const inv = (message: string, field = 'spec.f'): StatusCause => ({
    reason: 'FieldValueInvalid',
    message,
    field,
  });
  const typ = (message: string, field = 'spec.f'): StatusCause => ({
    reason: 'FieldValueTypeInvalid',
    message,
    field,
  });

  it.each<[string, JsonObject, Json, StatusCause[]]>([
    ['an integer', { type: 'integer' }, 3, []],
    [
      'a float for an integer',
      { type: 'integer' },
      1.5,
      [typ('Invalid value: "number": spec.f in body must be of type integer: "number"')],
    ],
    ['an integer for a number', { type: 'number' }, 3, []],
    [
      'a boolean for a string',
      { type: 'string' },
      true,
      [typ('Invalid value: "boolean": spec.f in body must be of type string: "boolean"')],
    ],
    [
      'an array for an object',
      { type: 'object' },
      [],
      [typ('Invalid value: "array": spec.f in body must be of type object: "array"')],
    ],
    [
      'null for a non-nullable string',
      { type: 'string' },
      null,
      [typ('Invalid value: "null": spec.f in body must be of type string: "null"')],
    ],
    ['null for a nullable string', { type: 'string', nullable: true }, null, []],
    ['int-or-string given a string', { 'x-kubernetes-int-or-string': true }, 'http', []],
    [
      'int-or-string given a float',
      { 'x-kubernetes-int-or-string': true },
      2.5,
      [typ('Invalid value: "number": spec.f in body must be of type integer,string: "number"')],
    ],
    ['no type and preserve-unknown-fields', { 'x-kubernetes-preserve-unknown-fields': true }, { a: 1 }, []],
    [
      'enum of strings',
      { type: 'string', enum: ['a', 'b'] },
      'c',
      [
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: "c": supported values: "a", "b"',
          field: 'spec.f',
        },
      ],
    ],
    [
      'enum of numbers',
      { type: 'integer', enum: [1, 2] },
      3,
      [
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: 3: supported values: "1", "2"',
          field: 'spec.f',
        },
      ],
    ],
    [
      'pattern',
      { type: 'string', pattern: '^[a-z]+$' },
      'Ab',
      [inv(`Invalid value: "Ab": spec.f in body should match '^[a-z]+$'`)],
    ],
    [
      'maxLength (counted in characters)',
      { type: 'string', maxLength: 2 },
      'héé',
      [{ reason: 'FieldValueTooLong', message: 'Too long: may not be longer than 2', field: 'spec.f' }],
    ],
    ['maxLength ok with multibyte characters', { type: 'string', maxLength: 2 }, 'éé', []],
    [
      'minLength',
      { type: 'string', minLength: 3 },
      'ab',
      [inv('Invalid value: "ab": spec.f in body should be at least 3 chars long')],
    ],
    [
      'only the first string failure',
      { type: 'string', minLength: 3, pattern: '^x' },
      'ab',
      [inv('Invalid value: "ab": spec.f in body should be at least 3 chars long')],
    ],
    [
      'minimum',
      { type: 'integer', minimum: 0 },
      -1,
      [inv('Invalid value: -1: spec.f in body should be greater than or equal to 0')],
    ],
    [
      'exclusiveMinimum',
      { type: 'integer', minimum: 0, exclusiveMinimum: true },
      0,
      [inv('Invalid value: 0: spec.f in body should be greater than 0')],
    ],
    [
      'maximum',
      { type: 'integer', maximum: 10 },
      11,
      [inv('Invalid value: 11: spec.f in body should be less than or equal to 10')],
    ],
    [
      'exclusiveMaximum',
      { type: 'number', maximum: 1.5, exclusiveMaximum: true },
      1.5,
      [inv('Invalid value: 1.5: spec.f in body should be less than 1.5')],
    ],
    [
      'a large float bound in Go notation',
      { type: 'number', maximum: 1e6 },
      2e6 + 0.5,
      [inv('Invalid value: 2.0000005e+06: spec.f in body should be less than or equal to 1e+06')],
    ],
    [
      'multipleOf',
      { type: 'integer', multipleOf: 5 },
      7,
      [inv('Invalid value: 7: spec.f in body should be a multiple of 5')],
    ],
    [
      'minItems',
      { type: 'array', items: { type: 'string' }, minItems: 2 },
      ['a'],
      [inv('Invalid value: 1: spec.f in body should have at least 2 items')],
    ],
    [
      'maxItems',
      { type: 'array', items: { type: 'string' }, maxItems: 1 },
      ['a', 'b'],
      [{ reason: 'FieldValueTooMany', message: 'Too many: 2: must have at most 1 items', field: 'spec.f' }],
    ],
    [
      'uniqueItems',
      { type: 'array', items: { type: 'integer' }, uniqueItems: true },
      [1, 1],
      [inv('Invalid value: "": spec.f in body shouldn\'t contain duplicates')],
    ],
    [
      'items are validated before the array bounds',
      { type: 'array', items: { type: 'integer' }, maxItems: 1 },
      ['x', 2],
      [
        typ('Invalid value: "string": spec.f[0] in body must be of type integer: "string"', 'spec.f[0]'),
        { reason: 'FieldValueTooMany', message: 'Too many: 2: must have at most 1 items', field: 'spec.f' },
      ],
    ],
    [
      'additionalProperties values',
      { type: 'object', additionalProperties: { type: 'integer' } },
      { a: 1, b: 'x' },
      [typ('Invalid value: "string": spec.f.b in body must be of type integer: "string"', 'spec.f.b')],
    ],
    [
      'maxProperties stops the object checks',
      { type: 'object', maxProperties: 1, required: ['z'] },
      { a: 1, b: 2 },
      [{ reason: 'FieldValueTooMany', message: 'Too many: 2: must have at most 1 items', field: 'spec.f' }],
    ],
    ['date-time', { type: 'string', format: 'date-time' }, '2026-11-21T13:43:35Z', []],
    [
      'date-time with fraction and offset',
      { type: 'string', format: 'date-time' },
      '2026-02-28T23:59:59.5+01:00',
      [],
    ],
    [
      'not a date-time',
      { type: 'string', format: 'date-time' },
      'yesterday',
      [typ('Invalid value: "yesterday": spec.f in body must be of type date-time: "yesterday"')],
    ],
    [
      'not a date',
      { type: 'string', format: 'date' },
      '2026-02-30',
      [typ('Invalid value: "2026-02-30": spec.f in body must be of type date: "2026-02-30"')],
    ],
    ['int32 is not checked (kube strips that format)', { type: 'integer', format: 'int32' }, 2 ** 40, []],
    ['int64 is not checked', { type: 'integer', format: 'int64' }, 2 ** 53, []],
    [
      'anyOf failing reports the composite error without a field',
      { type: 'string', anyOf: [{ pattern: '^a' }, { pattern: '^b' }] },
      'c',
      [
        inv('Invalid value: "": "spec.f" must validate at least one schema (anyOf)', '<nil>'),
        inv(`Invalid value: "c": spec.f in body should match '^a'`),
      ],
    ],
    ['anyOf passing', { type: 'string', anyOf: [{ pattern: '^a' }, { pattern: '^b' }] }, 'b', []],
  ])('%s', (_name, prop, value, want) => {
    expect(check(prop, value)).toEqual(want);
  });

  it('visits sibling properties in the default order and reports required fields after them', () => {
    const schema: JsonObject = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['zz', 'aa'],
          properties: {
            a: { type: 'string' },
            b: { type: 'string' },
            c: { type: 'string' },
            zz: { type: 'string' },
            aa: { type: 'string' },
          },
        },
      },
    };
    const causes = validate({ spec: { a: 1, b: 1, c: 1 } }, schema);
    expect(causes.map((c) => c.field)).toEqual(['spec.a', 'spec.b', 'spec.c', 'spec.zz', 'spec.aa']);
    expect(defaultPropertyOrder(['b', 'a', 'zz', 'c'])).toEqual(['zz', 'a', 'b', 'c']);
    const reversed = validate({ spec: { a: 1, b: 1, c: 1 } }, schema, {
      propertyOrder: (names) => [...names].sort().reverse(),
    });
    expect(reversed.map((c) => c.field)).toEqual(['spec.c', 'spec.b', 'spec.a', 'spec.zz', 'spec.aa']);
  });

  it('reports identical messages once', () => {
    const schema = wrap({ type: 'string', allOf: [{ pattern: '^a' }, { pattern: '^a' }] });
    const causes = validate({ spec: { f: 'b' } }, schema);
    expect(causes).toEqual([
      inv(`Invalid value: "b": spec.f in body should match '^a'`),
      inv('Invalid value: "": "spec.f" must validate all the schemas (allOf). None validated', '<nil>'),
    ]);
  });
});

describe('validateScaleReplicas', () => {
  it.each<[string, JsonObject, StatusCause[]]>([
    ['valid replicas', { spec: { replicas: 3 }, status: { replicas: 1 } }, []],
    ['absent replicas', { spec: {} }, []],
    [
      'a string',
      { spec: { replicas: 'three' } },
      [
        {
          reason: 'FieldValueInvalid',
          message:
            'Invalid value: 0: .spec.replicas accessor error: three is of the type string, expected int64',
          field: '.spec.replicas',
        },
      ],
    ],
    [
      'a float',
      { spec: { replicas: 1.5 } },
      [
        {
          reason: 'FieldValueInvalid',
          message:
            'Invalid value: 0: .spec.replicas accessor error: 1.5 is of the type float64, expected int64',
          field: '.spec.replicas',
        },
      ],
    ],
    [
      'a negative status',
      { status: { replicas: -2 } },
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: -2: should be a non-negative integer',
          field: '.status.replicas',
        },
      ],
    ],
    [
      'above int32',
      { spec: { replicas: 2 ** 31 } },
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 2147483648: should be less than or equal to 2147483647',
          field: '.spec.replicas',
        },
      ],
    ],
    [
      'a parent that is not an object',
      { spec: 'x' },
      [
        {
          reason: 'FieldValueInvalid',
          message:
            'Invalid value: 0: .spec.replicas accessor error: x is of the type string, expected map[string]interface{}',
          field: '.spec.replicas',
        },
      ],
    ],
  ])('%s', (_name, o, want) => {
    expect(validateScaleReplicas(o, widgetScale)).toEqual(want);
  });

  it('checks a label selector path holds a string', () => {
    const causes = validateScaleReplicas(
      { status: { selector: 5 } },
      { ...widgetScale, labelSelectorPath: '.status.selector' },
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: "": .status.selector accessor error: 5 is of the type int64, expected string',
        field: '.status.selector',
      },
    ]);
  });
});

describe('embedded resources and list types', () => {
  it('requires apiVersion and kind of embedded objects and checks their metadata', () => {
    const schema: JsonObject = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            template: {
              type: 'object',
              'x-kubernetes-embedded-resource': true,
              'x-kubernetes-preserve-unknown-fields': true,
            },
          },
        },
      },
    };
    const causes = validateEmbedded(
      { spec: { template: { kind: 'Bad_Kind', metadata: { labels: { 'a b': 'x' } } } } },
      schema,
    );
    expect(causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`)).toEqual([
      'spec.template.apiVersion: Required value: must not be empty',
      expect.stringMatching(
        /^spec\.template\.kind: Invalid value: "Bad_Kind": may have mixed case, but should otherwise match: a DNS-1035 label/,
      ),
      expect.stringMatching(
        /^spec\.template\.metadata\.labels: Invalid value: "a b": name part must consist of/,
      ),
    ]);
    expect(validateEmbedded({ spec: { template: { apiVersion: 'v1', kind: 'Pod' } } }, schema)).toEqual([]);
  });

  it('rejects duplicates in set and map lists', () => {
    const schema: JsonObject = {
      type: 'object',
      properties: {
        s: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        m: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } } },
        },
      },
    };
    expect(
      validateListTypes(
        {
          s: ['a', 'b', 'a'],
          m: [
            { name: 'x', v: 1 },
            { name: 'x', v: 2 },
          ],
        },
        schema,
      ),
    ).toEqual([
      { reason: 'FieldValueDuplicate', message: 'Duplicate value: "a"', field: 's[2]' },
      {
        reason: 'FieldValueDuplicate',
        message: 'Duplicate value: map[string]interface {}{"name":"x"}',
        field: 'm[1]',
      },
    ]);
  });
});

describe('goJsonMarshal', () => {
  it('sorts keys and escapes like Go', () => {
    expect(goJsonMarshal({ b: 1, a: ['<&>', '\u2028', 'tab\t', '\b'], c: { z: null, y: 1.5 } })).toBe(
      '{"a":["\\u003c\\u0026\\u003e","\\u2028","tab\\t","\\u0008"],"b":1,"c":{"y":1.5,"z":null}}',
    );
  });
});
