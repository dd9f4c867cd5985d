// Turns a zod schema into a Kubernetes structural schema (openAPIV3Schema): zod's JSON Schema,
// post-processed into the subset kube-apiserver accepts for CRDs.
import { z } from 'zod';

type Schema = { [key: string]: unknown };

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** kube's int-or-string: an anyOf of exactly an integer and a string. */
function isIntOrString(s: Schema): boolean {
  const any = s.anyOf ?? s.oneOf;
  if (!Array.isArray(any) || any.length !== 2) return false;
  const types = any.map((x) => (isSchema(x) ? x.type : undefined)).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

/**
 * Rewrites one JSON Schema node into the structural subset: no $schema/$ref/$defs, no
 * propertyNames, additionalProperties only without properties, nullable instead of null unions,
 * x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields for free-form values.
 */
export function toStructural(node: unknown, defs: Schema = {}): Schema {
  if (!isSchema(node)) return { 'x-kubernetes-preserve-unknown-fields': true };
  let s: Schema = { ...node };
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace(/^#\/\$defs\//, '');
    const target = defs[name];
    if (!isSchema(target)) throw new Error(`unresolved $ref ${s.$ref}`);
    s = { ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
  }
  delete s.$schema;
  delete s.$defs;
  delete s.propertyNames;
  delete s.id;
  const out: Schema = {};
  if (typeof s.description === 'string') out.description = s.description;

  if (isIntOrString(s)) {
    out['x-kubernetes-int-or-string'] = true;
    if (s.default !== undefined) out.default = s.default;
    return out;
  }
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) {
    const nonNull = union.filter((x) => !(isSchema(x) && x.type === 'null'));
    if (nonNull.length === 1) {
      const inner = toStructural(nonNull[0], defs);
      if (nonNull.length !== union.length) inner.nullable = true;
      if (out.description && !inner.description) inner.description = out.description;
      if (s.default !== undefined) inner.default = s.default;
      return inner;
    }
    // A union of object shapes: one object type that allows the union's properties.
    if (nonNull.every((x) => isSchema(x) && x.type === 'object')) {
      const merged: Schema = { type: 'object', properties: {} };
      for (const x of nonNull as Schema[]) Object.assign(merged.properties as Schema, x.properties ?? {});
      return { ...out, ...toStructural(merged, defs) };
    }
    return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (s.const !== undefined) {
    out.type =
      typeof s.const === 'number' ? (Number.isInteger(s.const) ? 'integer' : 'number') : typeof s.const;
    out.enum = [s.const];
    return out;
  }
  const type = s.type;
  if (type === undefined) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
    return out;
  }
  out.type = type;
  if (Array.isArray(s.enum)) out.enum = s.enum;
  if (s.default !== undefined) out.default = s.default;
  for (const k of ['pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'format'] as const)
    if (s[k] !== undefined) out[k] = s[k];
  for (const k of ['minimum', 'maximum'] as const) {
    const v = s[k];
    if (typeof v === 'number' && Math.abs(v) < MAX_SAFE) out[k] = v;
  }
  // JSON Schema 2020 numeric exclusive bounds → OpenAPI v3.0 boolean flags.
  if (typeof s.exclusiveMinimum === 'number') {
    out.minimum = s.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (typeof s.exclusiveMaximum === 'number') {
    out.maximum = s.exclusiveMaximum;
    out.exclusiveMaximum = true;
  }
  if (type === 'object') {
    if (isSchema(s.properties)) {
      const props: Schema = {};
      for (const [k, v] of Object.entries(s.properties)) props[k] = toStructural(v, defs);
      out.properties = props;
      if (Array.isArray(s.required) && s.required.length > 0) out.required = s.required;
      // A loose object keeps fields it does not declare (the reader reports them instead).
      const extra = s.additionalProperties;
      if (extra === true || (isSchema(extra) && Object.keys(extra).length === 0))
        out['x-kubernetes-preserve-unknown-fields'] = true;
    } else if (isSchema(s.additionalProperties)) {
      out.additionalProperties = toStructural(s.additionalProperties, defs);
    } else {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  if (type === 'array') out.items = toStructural(s.items, defs);
  return out;
}

/** The openAPIV3Schema of a zod schema (its input shape: defaults make fields optional). */
export function structuralSchema(schema: z.ZodType): Schema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Schema;
  return toStructural(json, isSchema(json.$defs) ? json.$defs : {});
}
