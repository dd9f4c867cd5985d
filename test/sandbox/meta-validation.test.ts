// ObjectMeta validation, name validators and the Invalid Status message, checked against tables and the
// recorded kube-apiserver v1.26 responses.
import { describe, expect, it } from 'vitest';
import type { JsonObject, StatusCause } from '../../sandbox/apiserver/types.js';
import { isObject } from '../../sandbox/apiserver/types.js';
import {
  dns1035Label,
  dns1123Label,
  dns1123Subdomain,
  formatInvalidMessage,
  goFloat,
  goQuote,
  labelValue,
  nameIsPathSegment,
  qualifiedName,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../sandbox/apiserver/validation/meta.js';
import { asObject, fixtureExchanges } from '../helpers/fixtures.js';

const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const qualifiedNameMessage =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('name validators', () => {
  it.each([
    ['example.com', []],
    ['a', []],
    ['a-b.c-d', []],
    ['Bad_Name', [subdomainMessage]],
    ['-a', [subdomainMessage]],
    ['a.', [subdomainMessage]],
    ['a'.repeat(254), ['must be no more than 253 characters']],
  ])('dns1123Subdomain(%j)', (value, want) => {
    expect(dns1123Subdomain(value)).toEqual(want);
  });

  it('dns1123Label rejects dots and upper case with the label wording', () => {
    expect(dns1123Label('fixtures')).toEqual([]);
    expect(dns1123Label('a.b')).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(dns1123Label('a'.repeat(64))).toHaveLength(1);
  });

  it('dns1035Label must start with a letter', () => {
    expect(dns1035Label('web')).toEqual([]);
    expect(dns1035Label('1web')[0]).toMatch(/^a DNS-1035 label must consist of/);
  });

  it.each([
    ['app', []],
    ['example.com/app', []],
    ['app.kubernetes.io/name', []],
    ['/app', ['prefix part must be non-empty']],
    ['example.com/', ['name part must be non-empty', qualifiedNameMessage]],
    ['Bad Key', [qualifiedNameMessage]],
    [
      'a/b/c',
      [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
    ['x'.repeat(64), ['name part must be no more than 63 characters']],
    ['Bad_Prefix/x', [`prefix part ${subdomainMessage}`]],
  ])('qualifiedName(%j)', (value, want) => {
    expect(qualifiedName(value)).toEqual(want);
  });

  it.each([
    ['', []],
    ['my_value', []],
    ['-bad', ['a valid label must be an empty string or consist of alphanumeric characters']],
    ['v'.repeat(64), ['must be no more than 63 characters']],
  ])('labelValue(%j)', (value, want) => {
    const got = labelValue(value);
    expect(got).toHaveLength(want.length);
    got.forEach((m, i) => expect(m.startsWith(want[i] ?? '')).toBe(true));
  });

  it('path-segment names reject . and .. and / or %', () => {
    expect(nameIsPathSegment('..', false)).toEqual(["may not be '..'"]);
    expect(nameIsPathSegment('a/b%c', false)).toEqual(["may not contain '/'", "may not contain '%'"]);
    expect(nameIsPathSegment('ok', false)).toEqual([]);
  });
});

describe('Go rendering', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['tab\tnew\n', '"tab\\tnew\\n"'],
    ['\x01', '"\\x01"'],
    ['é€', '"é€"'],
    ['\u200b', '"\\u200b"'],
  ])('goQuote(%j)', (value, want) => {
    expect(goQuote(value)).toBe(want);
  });

  it.each([
    [10, '10'],
    [1.5, '1.5'],
    [1e6, '1e+06'],
    [123456.5, '123456.5'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
  ])('goFloat(%j)', (value, want) => {
    expect(goFloat(value)).toBe(want);
  });
});

describe('validateObjectMeta', () => {
  it('reports an invalid name exactly as 03-cr-invalid.json (Bad_Name)', () => {
    const ex = fixtureExchanges('03-cr-invalid.json')[3];
    if (!ex) throw new Error('missing exchange');
    const meta = asObject(asObject(ex.request.body)['metadata']);
    const causes = validateObjectMeta({ ...meta, namespace: 'fixtures' }, { namespaced: true });
    const recorded = asObject(asObject(ex.response.body)['details'])['causes'] as StatusCause[];
    expect(causes).toEqual([recorded[0]]);
  });

  it('reports the ConfigMap name exactly as 04-errors.json', () => {
    const ex = fixtureExchanges('04-errors.json')[41];
    if (!ex) throw new Error('missing exchange');
    const causes = validateObjectMeta(
      { ...asObject(asObject(ex.request.body)['metadata']), namespace: 'fixtures' },
      { namespaced: true },
    );
    const recorded = asObject(asObject(ex.response.body)['details'])['causes'] as StatusCause[];
    expect(causes).toEqual([recorded[0]]);
  });

  const base = { name: 'ok', namespace: 'fixtures' };
  it.each<[string, JsonObject, { namespaced: boolean; nameIsDnsSubdomain?: boolean }, StatusCause[]]>([
    ['a valid object', base, { namespaced: true }, []],
    [
      'no name',
      { namespace: 'fixtures' },
      { namespaced: true },
      [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: name or generateName is required',
          field: 'metadata.name',
        },
      ],
    ],
    ['generateName with a trailing dash', { ...base, generateName: 'gen-' }, { namespaced: true }, []],
    [
      'an invalid generateName',
      { ...base, generateName: 'Gen-' },
      { namespaced: true },
      [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "Gen-": ${subdomainMessage}`,
          field: 'metadata.generateName',
        },
      ],
    ],
    [
      'a namespaced object without namespace',
      { name: 'ok' },
      { namespaced: true },
      [{ reason: 'FieldValueRequired', message: 'Required value', field: 'metadata.namespace' }],
    ],
    [
      'a cluster object with a namespace',
      base,
      { namespaced: false },
      [
        {
          reason: 'FieldValueForbidden',
          message: 'Forbidden: not allowed on this type',
          field: 'metadata.namespace',
        },
      ],
    ],
    [
      'a DNS-label resource with dots in the name',
      { ...base, name: 'a.b' },
      { namespaced: true, nameIsDnsSubdomain: false },
      [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "a.b": ${dns1123Label('a.b')[0] ?? ''}`,
          field: 'metadata.name',
        },
      ],
    ],
    [
      'a negative generation',
      { ...base, generation: -1 },
      { namespaced: true },
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: -1: must be greater than or equal to 0',
          field: 'metadata.generation',
        },
      ],
    ],
    [
      'a bad label key and value (path without the key)',
      { ...base, labels: { 'Bad Key': 'ok', good: '-bad' } },
      { namespaced: true },
      [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "Bad Key": ${qualifiedNameMessage}`,
          field: 'metadata.labels',
        },
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "-bad": ${labelValue('-bad')[0] ?? ''}`,
          field: 'metadata.labels',
        },
      ],
    ],
    [
      'annotation keys are case-insensitive, values unchecked',
      { ...base, annotations: { 'Example.COM/Key': '-anything-' } },
      { namespaced: true },
      [],
    ],
    [
      'ownerReferences with empty fields',
      { ...base, ownerReferences: [{ apiVersion: 'apps/', kind: '', name: '', uid: '' }] },
      { namespaced: true },
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "apps/": version must not be empty',
          field: 'metadata.ownerReferences.apiVersion',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "": kind must not be empty',
          field: 'metadata.ownerReferences.kind',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "": name must not be empty',
          field: 'metadata.ownerReferences.name',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "": uid must not be empty',
          field: 'metadata.ownerReferences.uid',
        },
      ],
    ],
    [
      'a finalizer that is not a qualified name',
      { ...base, finalizers: ['example.com/ok', 'bad finalizer'] },
      { namespaced: true },
      [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "bad finalizer": ${qualifiedNameMessage}`,
          field: 'metadata.finalizers',
        },
      ],
    ],
  ])('%s', (_name, meta, opts, want) => {
    expect(validateObjectMeta(meta, opts)).toEqual(want);
  });

  it('limits annotations to 256 KiB of keys and values', () => {
    const big = { ...base, annotations: { a: 'x'.repeat(256 * 1024) } };
    expect(validateObjectMeta(big, { namespaced: true })).toEqual([
      {
        reason: 'FieldValueTooLong',
        message: 'Too long: must have at most 262144 bytes',
        field: 'metadata.annotations',
      },
    ]);
    const fits = { ...base, annotations: { a: 'x'.repeat(256 * 1024 - 1) } };
    expect(validateObjectMeta(fits, { namespaced: true })).toEqual([]);
  });

  it('allows a single controller owner only', () => {
    const ref = (name: string): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Widget',
      name,
      uid: `u-${name}`,
      controller: true,
    });
    const causes = validateObjectMeta(
      { ...base, ownerReferences: [ref('a'), ref('b')] },
      { namespaced: true },
    );
    expect(causes).toHaveLength(1);
    expect(causes[0]?.field).toBe('metadata.ownerReferences');
    expect(causes[0]?.message).toMatch(
      /: Only one reference can have Controller set to true\. Found "true" in references for Widget\/a and Widget\/b$/,
    );
  });

  it('rejects orphan together with foregroundDeletion, and unqualified finalizers of built-ins', () => {
    const causes = validateObjectMeta(
      { ...base, finalizers: ['orphan', 'foregroundDeletion', 'custom'] },
      { namespaced: true, builtInFinalizerRule: true },
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: []string{"orphan", "foregroundDeletion", "custom"}: finalizer orphan and foregroundDeletion cannot be both set',
        field: 'metadata.finalizers',
      },
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
        field: 'metadata.finalizers',
      },
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  it('forbids new finalizers while deleting, twice, as 13-finalizers-gc.json records', () => {
    const ex = fixtureExchanges('13-finalizers-gc.json');
    const old = asObject(asObject(ex[3]?.response.body)['metadata']);
    const patch = asObject(asObject(ex[4]?.request.body)['metadata']);
    const next = { ...old, ...patch };
    const causes = validateObjectMetaUpdate(next, old, { namespaced: true });
    const recorded = asObject(ex[4]?.response.body);
    expect(causes).toEqual(asObject(recorded['details'])['causes']);
    expect(formatInvalidMessage('Widget.example.com', 'fin', causes)).toBe(recorded['message']);
  });

  it('reports immutable fields and a missing resourceVersion', () => {
    const old: JsonObject = {
      name: 'a',
      namespace: 'ns',
      uid: 'u1',
      resourceVersion: '5',
      creationTimestamp: '2026-01-02T03:04:05Z',
    };
    const causes = validateObjectMetaUpdate(
      { ...old, uid: 'u2', resourceVersion: '', creationTimestamp: '2026-01-02T03:04:06Z' },
      old,
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "": must be specified for an update',
        field: 'metadata.resourceVersion',
      },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "u2": field is immutable',
        field: 'metadata.uid',
      },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 2026-01-02 03:04:06 +0000 UTC: field is immutable',
        field: 'metadata.creationTimestamp',
      },
    ]);
    expect(validateObjectMetaUpdate(old, old)).toEqual([]);
  });
});

describe('formatInvalidMessage', () => {
  it('renders one cause without brackets and several with', () => {
    const a = { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.a' };
    const b = { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.b' };
    expect(formatInvalidMessage('Widget.example.com', 'w', [a])).toBe(
      'Widget.example.com "w" is invalid: spec.a: Required value',
    );
    expect(formatInvalidMessage('Widget.example.com', 'w', [a, b, a])).toBe(
      'Widget.example.com "w" is invalid: [spec.a: Required value, spec.b: Required value]',
    );
    expect(formatInvalidMessage('ConfigMap', 'c', [])).toBe('ConfigMap "c" is invalid');
  });

  const files = [
    '03-cr-invalid.json',
    '04-errors.json',
    '05-status-subresource.json',
    '06-scale-subresource.json',
    '08-service-defaults.json',
    '09-patches.json',
    '13-finalizers-gc.json',
    '14-events-leases.json',
  ];
  const cases = files.flatMap((file) =>
    fixtureExchanges(file)
      .map((ex, i) => ({ file, i, body: ex.response.body }))
      .filter(({ body }) => {
        if (!isObject(body) || body['reason'] !== 'Invalid' || !isObject(body['details'])) return false;
        return Array.isArray(body['details']['causes']);
      }),
  );

  it('covers the recorded 422 responses', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('reproduces the message of $file #$i', ({ body }) => {
    const status = asObject(body);
    const details = asObject(status['details']);
    const kind = typeof details['kind'] === 'string' ? details['kind'] : '';
    const group = typeof details['group'] === 'string' ? details['group'] : '';
    const name = typeof details['name'] === 'string' ? details['name'] : '';
    const causes = details['causes'] as StatusCause[];
    expect(formatInvalidMessage(group ? `${kind}.${group}` : kind, name, causes)).toBe(status['message']);
  });
});
