// Fields outside the supported subset: the networking schemas are loose (the API server keeps
// unknown fields), so an object is walked beside its zod schema and every undeclared field named.
import { z } from 'zod';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kubernetes field-path spelling: `.field` for declared fields, `[i]` for items, `[key]` for map keys. */
export const fieldPath = (base: string, key: string | number): string =>
  typeof key === 'number'
    ? `${base}[${key}]`
    : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
      ? `${base}.${key}`
      : `${base}[${key}]`;

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

/**
 * The paths (under `base`, e.g. `spec`) of the fields of `value` that `schema` does not declare, in
 * document order. Values the schema declares are walked into: objects, arrays and records.
 */
export function undeclaredFields(schema: z.ZodType, value: unknown, base: string): string[] {
  const out: string[] = [];
  const walk = (s0: z.ZodType, v: unknown, path: string): void => {
    const s = unwrap(s0);
    if (s instanceof z.ZodObject) {
      if (!isPlainObject(v)) return;
      const shape = s.shape as Record<string, z.ZodType>;
      for (const [key, child] of Object.entries(v)) {
        const declared = Object.hasOwn(shape, key) ? shape[key] : undefined;
        if (declared === undefined) out.push(fieldPath(path, key));
        else walk(declared, child, fieldPath(path, key));
      }
    } else if (s instanceof z.ZodArray) {
      if (!Array.isArray(v)) return;
      v.forEach((item, i) => walk(s.element as z.ZodType, item, fieldPath(path, i)));
    } else if (s instanceof z.ZodRecord) {
      if (!isPlainObject(v)) return;
      for (const [key, child] of Object.entries(v)) walk(s.valueType as z.ZodType, child, `${path}[${key}]`);
    }
  };
  walk(schema, value, base);
  return out;
}

/** A zod issue path as a field path under `base`: ['http', 0, 'timeout'] → `spec.http[0].timeout`. */
export const issuePath = (base: string, path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? fieldPath(acc, k) : fieldPath(acc, String(k))),
    base,
  );
