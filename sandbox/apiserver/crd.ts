// CustomResourceDefinition handling as kube-apiserver v1.26 does it: create-time defaults (with Go field
// order), the naming/establishing controllers' status, and validation of the CRD object itself.
import type { Json, JsonObject, StatusCause } from './types.js';
import { clone, isObject } from './types.js';
import {
  dns1035Label,
  dns1123Subdomain,
  duplicate,
  GoLiteral,
  goQuote,
  invalid,
  notSupported,
  required,
} from './validation/meta.js';

// ---------------------------------------------------------------------------------------------
// Go struct field order: the server serialises typed objects in declaration order, omitting empty
// `omitempty` fields. Rebuilding objects in that order makes responses byte-identical to kube's.

type Shape = readonly (readonly [key: string, omitEmpty: boolean, child?: (v: Json) => Json])[];

function isEmpty(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

/** Rebuilds `o` with `shape`'s keys in order; keys not in the shape are dropped (kube drops unknown fields). */
function ordered(o: Json, shape: Shape): Json {
  if (!isObject(o)) return o;
  const out: JsonObject = {};
  for (const [key, omitEmpty, child] of shape) {
    const v = o[key];
    if (v === undefined) continue;
    if (omitEmpty && isEmpty(v)) continue;
    out[key] = child ? child(v) : v;
  }
  return out;
}

const list =
  (f: (v: Json) => Json) =>
  (v: Json): Json =>
    Array.isArray(v) ? v.map(f) : v;

/** A Go map: keys sorted, values through `f`. */
const sortedMap =
  (f: (v: Json) => Json) =>
  (v: Json): Json => {
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = f(v[k] ?? null);
    return out;
  };

/** `null` stays null in pointer fields that are set (e.g. `default: null`). */
const pointerOmit = false;

function schemaProps(v: Json): Json {
  return ordered(v, schemaShape);
}

const schemaOrArray = (v: Json): Json => (Array.isArray(v) ? v.map(schemaProps) : schemaProps(v));
const schemaOrBool = (v: Json): Json => (typeof v === 'boolean' ? v : schemaProps(v));
const schemaOrStrings = (v: Json): Json => (Array.isArray(v) ? v : schemaProps(v));

const validationRuleShape: Shape = [
  ['rule', false],
  ['message', true],
  ['messageExpression', true],
  ['reason', true],
  ['fieldPath', true],
];

const schemaShape: Shape = [
  ['id', true],
  ['$schema', true],
  ['$ref', true],
  ['description', true],
  ['type', true],
  ['format', true],
  ['title', true],
  ['default', pointerOmit],
  ['maximum', pointerOmit],
  ['exclusiveMaximum', true],
  ['minimum', pointerOmit],
  ['exclusiveMinimum', true],
  ['maxLength', pointerOmit],
  ['minLength', pointerOmit],
  ['pattern', true],
  ['maxItems', pointerOmit],
  ['minItems', pointerOmit],
  ['uniqueItems', true],
  ['multipleOf', pointerOmit],
  ['enum', true],
  ['maxProperties', pointerOmit],
  ['minProperties', pointerOmit],
  ['required', true],
  ['items', pointerOmit, schemaOrArray],
  ['allOf', true, list(schemaProps)],
  ['oneOf', true, list(schemaProps)],
  ['anyOf', true, list(schemaProps)],
  ['not', pointerOmit, schemaProps],
  ['properties', true, sortedMap(schemaProps)],
  ['additionalProperties', pointerOmit, schemaOrBool],
  ['patternProperties', true, sortedMap(schemaProps)],
  ['dependencies', true, sortedMap(schemaOrStrings)],
  ['additionalItems', pointerOmit, schemaOrBool],
  ['definitions', true, sortedMap(schemaProps)],
  [
    'externalDocs',
    pointerOmit,
    (v) =>
      ordered(v, [
        ['description', true],
        ['url', true],
      ]),
  ],
  ['example', pointerOmit],
  ['nullable', true],
  ['x-kubernetes-preserve-unknown-fields', pointerOmit],
  ['x-kubernetes-embedded-resource', true],
  ['x-kubernetes-int-or-string', true],
  ['x-kubernetes-list-map-keys', true],
  ['x-kubernetes-list-type', pointerOmit],
  ['x-kubernetes-map-type', pointerOmit],
  ['x-kubernetes-validations', true, list((r) => ordered(r, validationRuleShape))],
];

const namesShape: Shape = [
  ['plural', false],
  ['singular', true],
  ['shortNames', true],
  ['kind', false],
  ['listKind', true],
  ['categories', true],
];

const versionShape: Shape = [
  ['name', false],
  ['served', false],
  ['storage', false],
  ['deprecated', true],
  ['deprecationWarning', pointerOmit],
  ['schema', pointerOmit, (v) => ordered(v, [['openAPIV3Schema', pointerOmit, schemaProps]])],
  [
    'subresources',
    pointerOmit,
    (v) =>
      ordered(v, [
        ['status', pointerOmit, () => ({})],
        [
          'scale',
          pointerOmit,
          (s) =>
            ordered(s, [
              ['specReplicasPath', false],
              ['statusReplicasPath', false],
              ['labelSelectorPath', pointerOmit],
            ]),
        ],
      ]),
  ],
  [
    'additionalPrinterColumns',
    true,
    list((c) =>
      ordered(c, [
        ['name', false],
        ['type', false],
        ['format', true],
        ['description', true],
        ['priority', true],
        ['jsonPath', false],
      ]),
    ),
  ],
];

const clientConfigShape: Shape = [
  ['url', pointerOmit],
  [
    'service',
    pointerOmit,
    (v) =>
      ordered(v, [
        ['namespace', false],
        ['name', false],
        ['path', pointerOmit],
        ['port', pointerOmit],
      ]),
  ],
  ['caBundle', true],
];

const conversionShape: Shape = [
  ['strategy', false],
  [
    'webhook',
    pointerOmit,
    (v) =>
      ordered(v, [
        ['clientConfig', pointerOmit, (c) => ordered(c, clientConfigShape)],
        ['conversionReviewVersions', false],
      ]),
  ],
];

const specShape: Shape = [
  ['group', false],
  ['names', false, (v) => ordered(v, namesShape)],
  ['scope', false],
  ['versions', false, list((v) => ordered(v, versionShape))],
  ['conversion', pointerOmit, (v) => ordered(v, conversionShape)],
  ['preserveUnknownFields', true],
];

const conditionShape: Shape = [
  ['type', false],
  ['status', false],
  ['lastTransitionTime', true],
  ['reason', true],
  ['message', true],
];

const statusShape: Shape = [
  ['conditions', false, list((c) => ordered(c, conditionShape))],
  ['acceptedNames', false, (v) => ordered(v, namesShape)],
  ['storedVersions', false],
];

/** Replaces `crd`'s own keys with `next`'s, keeping the object identity callers hold. */
function replaceContents(crd: JsonObject, next: JsonObject): void {
  for (const k of Object.keys(crd)) delete crd[k];
  Object.assign(crd, next);
}

/** Puts the CRD's top-level and spec/status keys in the order kube serialises them (metadata untouched). */
export function canonicalCrd(crd: JsonObject): void {
  const next: JsonObject = {};
  for (const k of ['kind', 'apiVersion', 'metadata']) if (crd[k] !== undefined) next[k] = crd[k] ?? null;
  if (crd['spec'] !== undefined) next['spec'] = ordered(crd['spec'] ?? null, specShape);
  if (crd['status'] !== undefined) next['status'] = ordered(crd['status'] ?? null, statusShape);
  replaceContents(crd, next);
}

// ---------------------------------------------------------------------------------------------
// Defaults.

function objectAt(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  o[key] = fresh;
  return fresh;
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function versionsOf(crd: JsonObject): JsonObject[] {
  const spec = crd['spec'];
  const versions = isObject(spec) ? spec['versions'] : undefined;
  return Array.isArray(versions) ? versions.filter(isObject) : [];
}

/** The name of the version marked storage: true ('' if none). */
export function storageVersion(crd: JsonObject): string {
  return str(versionsOf(crd).find((v) => v['storage'] === true)?.['name']);
}

/** The openAPIV3Schema of a version, if it has one. */
export function crdSchema(crd: JsonObject, version: string): JsonObject | undefined {
  const v = versionsOf(crd).find((x) => x['name'] === version);
  const schema = v?.['schema'];
  const s = isObject(schema) ? schema['openAPIV3Schema'] : undefined;
  return isObject(s) ? s : undefined;
}

/**
 * What the server fills in when a CRD is created: names.singular (lower-case kind), names.listKind
 * (kind + "List"), spec.conversion {strategy: None}, a webhook service's port 443, and a fresh status
 * (conditions null, empty acceptedNames, storedVersions = [storage version]); request status is
 * discarded. Keys end up in kube's serialisation order (unknown keys dropped).
 */
export function crdDefaults(crd: JsonObject): void {
  const spec = objectAt(crd, 'spec');
  const names = objectAt(spec, 'names');
  const kind = str(names['kind']);
  if (str(names['singular']) === '') names['singular'] = kind.toLowerCase();
  if (str(names['listKind']) === '' && kind !== '') names['listKind'] = `${kind}List`;
  if (!isObject(spec['conversion'])) spec['conversion'] = { strategy: 'None' };
  const conversion = spec['conversion'];
  if (isObject(conversion)) {
    const webhook = conversion['webhook'];
    const clientConfig = isObject(webhook) ? webhook['clientConfig'] : undefined;
    const service = isObject(clientConfig) ? clientConfig['service'] : undefined;
    if (isObject(service) && service['port'] === undefined) service['port'] = 443;
  }
  const stored = storageVersion(crd);
  crd['status'] = {
    conditions: null,
    acceptedNames: { plural: '', kind: '' },
    storedVersions: stored === '' ? [] : [stored],
  };
  canonicalCrd(crd);
}

// ---------------------------------------------------------------------------------------------
// Status written by the naming and establishing controllers.

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

function conditionsOf(crd: JsonObject): JsonObject[] {
  const status = crd['status'];
  const c = isObject(status) ? status['conditions'] : undefined;
  return Array.isArray(c) ? c.filter(isObject) : [];
}

/** Sets a condition; lastTransitionTime changes only when the status changes (as kube's helper does). */
function setCondition(crd: JsonObject, c: Condition, now: string): void {
  const status = objectAt(crd, 'status');
  const conditions = conditionsOf(crd);
  const existing = conditions.find((x) => x['type'] === c.type);
  const lastTransitionTime =
    existing && existing['status'] === c.status ? str(existing['lastTransitionTime']) || now : now;
  const next: JsonObject = {
    type: c.type,
    status: c.status,
    lastTransitionTime,
    reason: c.reason,
    message: c.message,
  };
  status['conditions'] = existing
    ? conditions.map((x) => (x === existing ? next : x))
    : [...conditions, next];
}

function namesOf(o: Json | undefined): JsonObject {
  return isObject(o) ? o : {};
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The naming controller's pass: checks spec.names against the accepted names of the other CRDs of the
 * same group, then sets status.acceptedNames and the NamesAccepted condition (True NoConflicts "no
 * conflicts found", or False PluralConflict/KindConflict `"x" is already in use`) and, while not yet
 * established, Established False Installing "the initial names have been accepted" (False NotAccepted
 * "not all names are accepted" when names conflict). `now` is an RFC 3339 timestamp (seconds).
 */
export function crdAcceptNames(crd: JsonObject, now: string, otherCrdsInGroup: JsonObject[] = []): void {
  const spec = namesOf(crd['spec']);
  const requested = namesOf(spec['names']);
  const status = objectAt(crd, 'status');
  const accepted = namesOf(status['acceptedNames']);
  const usedResources = new Set<string>();
  const usedKinds = new Set<string>();
  const selfName = str(namesOf(crd['metadata'])['name']);
  for (const other of otherCrdsInGroup) {
    if (str(namesOf(other['metadata'])['name']) === selfName) continue;
    const names = namesOf(namesOf(other['status'])['acceptedNames']);
    for (const n of [str(names['plural']), str(names['singular']), ...strings(names['shortNames'])]) {
      if (n !== '') usedResources.add(n);
    }
    for (const n of [str(names['kind']), str(names['listKind'])]) if (n !== '') usedKinds.add(n);
  }
  const conflict = (value: string, acceptedValue: string, used: Set<string>): boolean =>
    value !== acceptedValue && used.has(value);

  const next: JsonObject = clone(accepted);
  let namesAccepted: Condition = {
    type: 'NamesAccepted',
    status: 'True',
    reason: 'NoConflicts',
    message: 'no conflicts found',
  };
  const plural = str(requested['plural']);
  const singular = str(requested['singular']);
  const shortNames = strings(requested['shortNames']);
  const pluralConflict = [
    conflict(plural, str(accepted['plural']), usedResources) ? plural : '',
    conflict(singular, str(accepted['singular']), usedResources) ? singular : '',
    ...shortNames.filter((s) => !strings(accepted['shortNames']).includes(s) && usedResources.has(s)),
  ].find((x) => x !== '');
  if (pluralConflict !== undefined) {
    namesAccepted = {
      type: 'NamesAccepted',
      status: 'False',
      reason: 'PluralConflict',
      message: `${goQuote(pluralConflict)} is already in use`,
    };
  } else {
    next['plural'] = plural;
    next['singular'] = singular;
    next['shortNames'] = shortNames;
    next['categories'] = strings(requested['categories']);
  }
  const kind = str(requested['kind']);
  const listKind = str(requested['listKind']);
  const kindConflict = [
    conflict(kind, str(accepted['kind']), usedKinds) ? kind : '',
    conflict(listKind, str(accepted['listKind']), usedKinds) ? listKind : '',
  ].find((x) => x !== '');
  if (kindConflict !== undefined) {
    namesAccepted = {
      type: 'NamesAccepted',
      status: 'False',
      reason: 'KindConflict',
      message: `${goQuote(kindConflict)} is already in use`,
    };
  } else {
    next['kind'] = kind;
    next['listKind'] = listKind;
  }
  status['acceptedNames'] = next;
  setCondition(crd, namesAccepted, now);

  const established = conditionsOf(crd).find((c) => c['type'] === 'Established');
  if (established?.['status'] !== 'True') {
    setCondition(
      crd,
      namesAccepted.status === 'True'
        ? {
            type: 'Established',
            status: 'False',
            reason: 'Installing',
            message: 'the initial names have been accepted',
          }
        : established
          ? {
              type: 'Established',
              status: established['status'] === 'False' ? 'False' : 'Unknown',
              reason: str(established['reason']),
              message: str(established['message']),
            }
          : {
              type: 'Established',
              status: 'False',
              reason: 'NotAccepted',
              message: 'not all names are accepted',
            },
      now,
    );
  }
  canonicalCrd(crd);
}

/**
 * Brings a CRD to the state kube reaches once its API is served: names accepted (see crdAcceptNames)
 * and, when they were, Established True InitialNamesAccepted "the initial names have been accepted".
 */
export function crdEstablish(crd: JsonObject, now: string, otherCrdsInGroup: JsonObject[] = []): void {
  crdAcceptNames(crd, now, otherCrdsInGroup);
  const accepted = conditionsOf(crd).find((c) => c['type'] === 'NamesAccepted');
  if (accepted?.['status'] !== 'True') return;
  setCondition(
    crd,
    {
      type: 'Established',
      status: 'True',
      reason: 'InitialNamesAccepted',
      message: 'the initial names have been accepted',
    },
    now,
  );
  canonicalCrd(crd);
}

/** True once the Established condition is True (the resource is then served). */
export function crdIsEstablished(crd: JsonObject): boolean {
  return conditionsOf(crd).some((c) => c['type'] === 'Established' && c['status'] === 'True');
}

// ---------------------------------------------------------------------------------------------
// Validation of the CRD object (a practical subset of apiextensions' ValidateCustomResourceDefinition).

const printerColumnTypes = ['integer', 'number', 'string', 'boolean', 'date'];
const schemaTypes = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

/** `[]apiextensions.CustomResourceDefinitionVersion{...}` roughly as Go's %#v prints spec.versions. */
function goVersions(versions: JsonObject[]): GoLiteral {
  const ptr = (v: Json | undefined, type: string): string =>
    v === undefined || v === null ? `(${type})(nil)` : `(${type})(0xc000000000)`;
  const one = (v: JsonObject): string =>
    `apiextensions.CustomResourceDefinitionVersion{Name:${goQuote(str(v['name']))}, Served:${String(v['served'] === true)}, ` +
    `Storage:${String(v['storage'] === true)}, Deprecated:${String(v['deprecated'] === true)}, ` +
    `DeprecationWarning:${ptr(v['deprecationWarning'], '*string')}, ` +
    `Schema:${ptr(v['schema'], '*apiextensions.CustomResourceValidation')}, ` +
    `Subresources:${ptr(v['subresources'], '*apiextensions.CustomResourceSubresources')}, ` +
    `AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition${Array.isArray(v['additionalPrinterColumns']) ? '{...}' : '(nil)'}}`;
  return new GoLiteral(`[]apiextensions.CustomResourceDefinitionVersion{${versions.map(one).join(', ')}}`);
}

/** Structural-schema completeness: every specified field has a type (unless int-or-string/preserve). */
function structuralCauses(s: JsonObject, path: string, root: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const type = str(s['type']);
  const typeless =
    s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;
  if (root) {
    if (type === '' && !typeless) out.push(required(`${path}.type`, 'must not be empty at the root'));
    else if (type !== '' && type !== 'object')
      out.push(invalid(`${path}.type`, type, 'must be object at the root'));
  }
  if (type !== '' && !schemaTypes.includes(type)) out.push(notSupported(`${path}.type`, type, schemaTypes));
  if (type === 'array' && !isObject(s['items'])) out.push(required(`${path}.items`, 'must be specified'));
  const props = s['properties'];
  if (isObject(props)) {
    for (const k of Object.keys(props).sort()) {
      const p = props[k];
      if (!isObject(p)) continue;
      const at = `${path}.properties[${k}]`;
      const pTypeless =
        p['x-kubernetes-int-or-string'] === true || p['x-kubernetes-preserve-unknown-fields'] === true;
      if (str(p['type']) === '' && !pTypeless) {
        out.push(required(`${at}.type`, 'must not be empty for specified object fields'));
      }
      out.push(...structuralCauses(p, at, false));
    }
  }
  const items = s['items'];
  if (isObject(items)) {
    const iTypeless =
      items['x-kubernetes-int-or-string'] === true || items['x-kubernetes-preserve-unknown-fields'] === true;
    if (str(items['type']) === '' && !iTypeless) {
      out.push(required(`${path}.items.type`, 'must not be empty for specified array items'));
    }
    out.push(...structuralCauses(items, `${path}.items`, false));
  }
  const additional = s['additionalProperties'];
  if (isObject(additional)) {
    if (isObject(props)) {
      out.push(
        forbiddenCause(
          `${path}.additionalProperties`,
          'additionalProperties and properties are mutual exclusive',
        ),
      );
    }
    out.push(...structuralCauses(additional, `${path}.additionalProperties`, false));
  }
  return out;
}

function forbiddenCause(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
}

function namesCauses(names: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const at = (f: string): string => `spec.names.${f}`;
  for (const f of ['plural', 'singular'] as const) {
    const v = str(names[f]);
    const errs = dns1035Label(v);
    if (v !== '' && errs.length > 0) out.push(invalid(at(f), v, errs.join(',')));
  }
  for (const f of ['kind', 'listKind'] as const) {
    const v = str(names[f]);
    const errs = dns1035Label(v.toLowerCase());
    if (v !== '' && errs.length > 0) {
      out.push(invalid(at(f), v, `may have mixed case, but should otherwise match: ${errs.join(',')}`));
    }
  }
  strings(names['shortNames']).forEach((s, i) => {
    const errs = dns1035Label(s);
    if (errs.length > 0) out.push(invalid(`${at('shortNames')}[${i}]`, s, errs.join(',')));
  });
  const kind = str(names['kind']);
  if (kind !== '' && kind === str(names['listKind'])) {
    out.push(invalid(at('listKind'), kind, 'kind and listKind may not be the same'));
  }
  strings(names['categories']).forEach((c, i) => {
    const errs = dns1035Label(c);
    if (errs.length > 0) out.push(invalid(`${at('categories')}[${i}]`, c, errs.join(',')));
  });
  for (const f of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (str(names[f]) === '') out.push(required(at(f)));
  }
  return out;
}

function versionCauses(v: JsonObject, i: number): StatusCause[] {
  const out: StatusCause[] = [];
  const at = `spec.versions[${i}]`;
  const name = str(v['name']);
  const nameErrs = dns1035Label(name);
  if (nameErrs.length > 0) out.push(invalid(`${at}.name`, name, nameErrs.join(',')));
  const schema = isObject(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
  if (!isObject(schema)) out.push(required(`${at}.schema.openAPIV3Schema`, 'schemas are required'));
  else out.push(...structuralCauses(schema, `${at}.schema.openAPIV3Schema`, true));
  const sub = v['subresources'];
  const scale = isObject(sub) ? sub['scale'] : undefined;
  if (isObject(scale)) {
    const sp = `${at}.subresources.scale`;
    const specPath = str(scale['specReplicasPath']);
    if (specPath === '') out.push(required(`${sp}.specReplicasPath`));
    else if (!specPath.startsWith('.spec.')) {
      out.push(invalid(`${sp}.specReplicasPath`, specPath, 'should be a json path under .spec'));
    }
    const statusPath = str(scale['statusReplicasPath']);
    if (statusPath === '') out.push(required(`${sp}.statusReplicasPath`));
    else if (!statusPath.startsWith('.status.')) {
      out.push(invalid(`${sp}.statusReplicasPath`, statusPath, 'should be a json path under .status'));
    }
    const selector = scale['labelSelectorPath'];
    if (typeof selector === 'string' && !selector.startsWith('.spec.') && !selector.startsWith('.status.')) {
      out.push(
        invalid(`${sp}.labelSelectorPath`, selector, 'should be a json path under either .spec or .status'),
      );
    }
  }
  const columns = v['additionalPrinterColumns'];
  if (Array.isArray(columns)) {
    columns.forEach((c, j) => {
      if (!isObject(c)) return;
      const cp = `${at}.additionalPrinterColumns[${j}]`;
      if (str(c['name']) === '') out.push(required(`${cp}.name`));
      const type = str(c['type']);
      if (type === '') out.push(required(`${cp}.type`));
      else if (!printerColumnTypes.includes(type))
        out.push(notSupported(`${cp}.type`, type, printerColumnTypes));
      if (str(c['jsonPath']) === '') out.push(required(`${cp}.JSONPath`));
    });
  }
  return out;
}

/**
 * Rejects CRDs that kube would reject for the common reasons, with kube's field paths and wording:
 * metadata.name must be `<plural>.<group>`, group a dotted DNS subdomain, scope Cluster|Namespaced,
 * versions (DNS-1035 names, unique, exactly one storage, a structural schema whose fields have types,
 * scale paths under .spec/.status, printer column types), names, and conversion strategy. Run it after
 * crdDefaults; metadata itself goes through validateObjectMeta (cluster-scoped).
 */
export function validateCrd(crd: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = namesOf(crd['spec']);
  const names = namesOf(spec['names']);
  const group = str(spec['group']);
  const name = str(namesOf(crd['metadata'])['name']);
  if (name !== `${str(names['plural'])}.${group}`) {
    out.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (group === '') out.push(required('spec.group'));
  else {
    const errs = dns1123Subdomain(group);
    if (errs.length > 0) out.push(invalid('spec.group', group, errs.join(',')));
    else if (group.split('.').length < 2)
      out.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = str(spec['scope']);
  if (scope === '') out.push(required('spec.scope'));
  else if (scope !== 'Cluster' && scope !== 'Namespaced') {
    out.push(notSupported('spec.scope', scope, ['Cluster', 'Namespaced']));
  }
  const versions = versionsOf(crd);
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vn = str(v['name']);
    if (seen.has(vn)) unique = false;
    seen.add(vn);
    out.push(...versionCauses(v, i));
  });
  out.push(...namesCauses(names));
  if (versions.length === 0)
    out.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  else {
    if (!unique)
      out.push(invalid('spec.versions', goVersions(versions), 'must contain unique version names'));
    const storage = versions.filter((v) => v['storage'] === true).length;
    if (storage !== 1) {
      out.push(
        invalid(
          'spec.versions',
          goVersions(versions),
          'must have exactly one version marked as storage version',
        ),
      );
    }
  }
  const conversion = spec['conversion'];
  if (isObject(conversion)) {
    const strategy = str(conversion['strategy']);
    if (strategy !== 'None' && strategy !== 'Webhook') {
      out.push(notSupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
    } else if (strategy === 'Webhook' && !isObject(conversion['webhook'])) {
      out.push(required('spec.conversion.webhook', 'must be present when strategy is Webhook'));
    }
  }
  const dupNames = strings(names['shortNames']).filter((s, i, all) => all.indexOf(s) !== i);
  for (const d of dupNames) out.push(duplicate('spec.names.shortNames', d));
  return out;
}
