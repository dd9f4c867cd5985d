// CRD create defaults, naming/establishing status and CRD validation, checked against the recorded
// kube-apiserver v1.26 responses of 01-discovery.json.
import { describe, expect, it } from 'vitest';
import type { Json, JsonObject, StatusCause } from '../../sandbox/apiserver/types.js';
import { clone } from '../../sandbox/apiserver/types.js';
import {
  canonicalCrd,
  crdAcceptNames,
  crdDefaults,
  crdEstablish,
  crdIsEstablished,
  crdSchema,
  storageVersion,
  validateCrd,
} from '../../sandbox/apiserver/crd.js';
import { asObject, fixtureExchanges } from '../helpers/fixtures.js';

const discovery = fixtureExchanges('01-discovery.json');
const createRequest = asObject(discovery[1]?.request.body);
const createResponse = asObject(discovery[1]?.response.body);
const afterNaming = asObject(discovery[2]?.response.body);
const afterEstablishing = asObject(discovery[3]?.response.body);
const created = '2026-11-21T13:43:33Z';

/** The CRD as the server stores it on create, with the recorded server-set metadata. */
function createdCrd(): JsonObject {
  const crd = clone(createRequest);
  crdDefaults(crd);
  crd['metadata'] = clone(asObject(createResponse['metadata']));
  canonicalCrd(crd);
  return crd;
}

describe('crdDefaults', () => {
  it('turns the create request into the recorded 201 body, byte for byte', () => {
    expect(JSON.stringify(createdCrd())).toBe(JSON.stringify(createResponse));
  });

  it('fills singular, listKind, conversion and a fresh status only where absent', () => {
    const crd: JsonObject = {
      spec: {
        names: { plural: 'gizmos', kind: 'Gizmo', singular: 'gadget', listKind: 'GizmoCollection' },
        versions: [
          { name: 'v1', served: true, storage: false },
          { name: 'v2', served: true, storage: true },
        ],
        conversion: {
          strategy: 'Webhook',
          webhook: {
            clientConfig: { service: { namespace: 'ns', name: 'svc' } },
            conversionReviewVersions: ['v1'],
          },
        },
      },
      status: { storedVersions: ['v0'], conditions: [] },
    };
    crdDefaults(crd);
    const spec = asObject(crd['spec']);
    expect(asObject(spec['names'])['singular']).toBe('gadget');
    expect(asObject(spec['names'])['listKind']).toBe('GizmoCollection');
    expect(spec['conversion']).toEqual({
      strategy: 'Webhook',
      webhook: {
        clientConfig: { service: { namespace: 'ns', name: 'svc', port: 443 } },
        conversionReviewVersions: ['v1'],
      },
    });
    expect(crd['status']).toEqual({
      conditions: null,
      acceptedNames: { plural: '', kind: '' },
      storedVersions: ['v2'],
    });
  });

  it('drops empty omitempty fields and unknown schema keys, keeps set pointers', () => {
    const crd: JsonObject = {
      spec: {
        group: 'g.io',
        names: { plural: 'xs', kind: 'X' },
        scope: 'Cluster',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            deprecated: false,
            schema: {
              openAPIV3Schema: {
                bogus: 1,
                properties: { b: { type: 'string', nullable: false }, a: { type: 'integer', minimum: 0 } },
                required: [],
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': false,
              },
            },
            additionalPrinterColumns: [{ jsonPath: '.spec.a', priority: 0, type: 'integer', name: 'A' }],
          },
        ],
      },
    };
    crdDefaults(crd);
    const version = asObject((asObject(crd['spec'])['versions'] as Json[])[0]);
    expect(JSON.stringify(version)).toBe(
      JSON.stringify({
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { a: { type: 'integer', minimum: 0 }, b: { type: 'string' } },
            'x-kubernetes-preserve-unknown-fields': false,
          },
        },
        additionalPrinterColumns: [{ name: 'A', type: 'integer', jsonPath: '.spec.a' }],
      }),
    );
  });
});

describe('naming and establishing', () => {
  it('crdAcceptNames gives the status of the first GET after create', () => {
    const crd = createdCrd();
    crdAcceptNames(crd, created);
    expect(JSON.stringify(crd['status'])).toBe(JSON.stringify(afterNaming['status']));
    expect(crdIsEstablished(crd)).toBe(false);
  });

  it('crdEstablish gives the status once Established', () => {
    const crd = createdCrd();
    crdAcceptNames(crd, created);
    crdEstablish(crd, created);
    expect(JSON.stringify(crd['status'])).toBe(JSON.stringify(afterEstablishing['status']));
    expect(crdIsEstablished(crd)).toBe(true);
  });

  it('crdEstablish from a fresh CRD reaches the same state and keeps transition times of unchanged conditions', () => {
    const crd = createdCrd();
    crdEstablish(crd, created);
    expect(crd['status']).toEqual(afterEstablishing['status']);
    crdEstablish(crd, '2026-11-21T14:00:00Z');
    const times = (asObject(crd['status'])['conditions'] as JsonObject[]).map((c) => c['lastTransitionTime']);
    expect(times).toEqual([created, created]);
  });

  it('reports a plural already accepted by another CRD of the group and stays not established', () => {
    const other: JsonObject = {
      metadata: { name: 'other.example.com' },
      status: { acceptedNames: { plural: 'widgets', kind: 'Other', listKind: 'OtherList' } },
    };
    const crd = createdCrd();
    crdEstablish(crd, created, [other]);
    const status = asObject(crd['status']);
    expect(status['conditions']).toEqual([
      {
        type: 'NamesAccepted',
        status: 'False',
        lastTransitionTime: created,
        reason: 'PluralConflict',
        message: '"widgets" is already in use',
      },
      {
        type: 'Established',
        status: 'False',
        lastTransitionTime: created,
        reason: 'NotAccepted',
        message: 'not all names are accepted',
      },
    ]);
    expect(asObject(status['acceptedNames'])['plural']).toBe('');
    expect(crdIsEstablished(crd)).toBe(false);
  });

  it('reports a kind conflict', () => {
    const other: JsonObject = {
      metadata: { name: 'gadgets.example.com' },
      status: { acceptedNames: { plural: 'gadgets', kind: 'Widget', listKind: 'GadgetList' } },
    };
    const crd = createdCrd();
    crdAcceptNames(crd, created, [other]);
    const names = (asObject(crd['status'])['conditions'] as JsonObject[])[0];
    expect(names).toMatchObject({
      status: 'False',
      reason: 'KindConflict',
      message: '"Widget" is already in use',
    });
  });
});

describe('schema helpers', () => {
  it('finds the storage version and its schema', () => {
    const crd = createdCrd();
    expect(storageVersion(crd)).toBe('v1');
    expect(crdSchema(crd, 'v1')?.['type']).toBe('object');
    expect(crdSchema(crd, 'v2')).toBeUndefined();
  });
});

describe('validateCrd', () => {
  it('accepts the recorded Widget CRD', () => {
    expect(validateCrd(createdCrd())).toEqual([]);
  });

  const mutate = (f: (crd: JsonObject, spec: JsonObject, version: JsonObject) => void): JsonObject => {
    const crd = createdCrd();
    const spec = asObject(crd['spec']);
    f(crd, spec, asObject((spec['versions'] as Json[])[0]));
    return crd;
  };

  it.each<[string, (crd: JsonObject, spec: JsonObject, version: JsonObject) => void, StatusCause[]]>([
    [
      'a name that is not plural.group',
      (crd) => (asObject(crd['metadata'])['name'] = 'widget.example.com'),
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group',
          field: 'metadata.name',
        },
      ],
    ],
    [
      'a group without a dot',
      (crd, spec) => {
        spec['group'] = 'example';
        asObject(crd['metadata'])['name'] = 'widgets.example';
      },
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "example": should be a domain with at least one dot',
          field: 'spec.group',
        },
      ],
    ],
    [
      'an unknown scope',
      (_crd, spec) => (spec['scope'] = 'Global'),
      [
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
          field: 'spec.scope',
        },
      ],
    ],
    [
      'a version without schema',
      (_crd, _spec, version) => delete version['schema'],
      [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: schemas are required',
          field: 'spec.versions[0].schema.openAPIV3Schema',
        },
      ],
    ],
    [
      'a property without type',
      (_crd, _spec, version) => {
        const root = asObject(asObject(version['schema'])['openAPIV3Schema']);
        asObject(asObject(asObject(root['properties'])['spec'])['properties'])['loose'] = {
          description: 'no type',
        };
      },
      [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: must not be empty for specified object fields',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[loose].type',
        },
      ],
    ],
    [
      'an array without items',
      (_crd, _spec, version) => {
        const root = asObject(asObject(version['schema'])['openAPIV3Schema']);
        asObject(asObject(asObject(root['properties'])['spec'])['properties'])['list'] = { type: 'array' };
      },
      [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: must be specified',
          field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items',
        },
      ],
    ],
    [
      'a scale path outside .spec',
      (_crd, _spec, version) =>
        (asObject(asObject(version['subresources'])['scale'])['specReplicasPath'] = '.status.replicas'),
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: ".status.replicas": should be a json path under .spec',
          field: 'spec.versions[0].subresources.scale.specReplicasPath',
        },
      ],
    ],
    [
      'a printer column of an unknown type',
      (_crd, _spec, version) =>
        (asObject((version['additionalPrinterColumns'] as Json[])[0])['type'] = 'text'),
      [
        {
          reason: 'FieldValueNotSupported',
          message:
            'Unsupported value: "text": supported values: "integer", "number", "string", "boolean", "date"',
          field: 'spec.versions[0].additionalPrinterColumns[0].type',
        },
      ],
    ],
    [
      'kind equal to listKind',
      (_crd, spec) => (asObject(spec['names'])['listKind'] = 'Widget'),
      [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "Widget": kind and listKind may not be the same',
          field: 'spec.names.listKind',
        },
      ],
    ],
    [
      'an unknown conversion strategy',
      (_crd, spec) => (spec['conversion'] = { strategy: 'Magic' }),
      [
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: "Magic": supported values: "None", "Webhook"',
          field: 'spec.conversion.strategy',
        },
      ],
    ],
  ])('rejects %s', (_name, f, want) => {
    expect(validateCrd(mutate(f))).toEqual(want);
  });

  it('requires exactly one storage version', () => {
    const crd = mutate((_crd, spec, version) => {
      spec['versions'] = [version, { ...clone(version), name: 'v2' }];
    });
    const causes = validateCrd(crd);
    expect(causes).toHaveLength(1);
    expect(causes[0]?.field).toBe('spec.versions');
    expect(causes[0]?.message).toMatch(
      /^Invalid value: \[\]apiextensions\.CustomResourceDefinitionVersion\{.*\}: must have exactly one version marked as storage version$/,
    );
  });

  it('rejects invalid names with DNS-1035 wording', () => {
    const crd = mutate((_crd, spec) => {
      asObject(spec['names'])['shortNames'] = ['ok', 'Not_OK'];
    });
    const causes = validateCrd(crd);
    expect(causes.map((c) => c.field)).toEqual(['spec.names.shortNames[1]']);
    expect(causes[0]?.message).toMatch(/^Invalid value: "Not_OK": a DNS-1035 label must consist of/);
  });
});
