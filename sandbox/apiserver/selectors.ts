// Label and field selectors of list/watch requests and of metav1.LabelSelector: parsing with
// kube-apiserver v1.26's exact error wording, and matching.

import { fail, isObject, ok, type Json, type JsonObject, type Result } from './types.js';
import { goQuote, labelValue, qualifiedName } from './validation/meta.js';

// ---------------------------------------------------------------------------------------------
// Label selectors

/** The operators of k8s.io/apimachinery/pkg/selection, spelled as kube spells them. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated when parsed from a string; as given when built from an object. */
  values: string[];
}

export interface LabelSelector {
  /** ANDed together; sorted by key. No requirements matches everything. */
  requirements: LabelRequirement[];
  /** True only for a missing metav1.LabelSelector (kube's labels.Nothing()): matches no object. */
  matchesNothing: boolean;
}

/**
 * Parses the `labelSelector` query parameter (kube's labels.Parse). Failures are 400 BadRequest
 * carrying the parser's message verbatim, as kube-apiserver returns them.
 */
export function parseLabelSelector(raw: string): Result<LabelSelector> {
  const parsed = new LabelParser(raw).parse();
  if (!parsed.ok) return fail(400, 'BadRequest', parsed.message);
  return ok({ requirements: sortByKey(parsed.value), matchesNothing: false });
}

/** True when every requirement holds for `labels` (absent labels = no labels). */
export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (sel.matchesNothing) return false;
  return sel.requirements.every((r) => requirementMatches(r, labels ?? {}));
}

/**
 * Converts a metav1.LabelSelector `{matchLabels, matchExpressions}` as kube's
 * LabelSelectorAsSelector does: undefined matches nothing, `{}` matches everything. Invalid keys,
 * values or operators are 400 BadRequest with kube's wording.
 */
export function labelSelectorFromObject(sel: JsonObject | undefined): Result<LabelSelector> {
  if (sel === undefined) return ok({ requirements: [], matchesNothing: true });
  const requirements: LabelRequirement[] = [];
  const matchLabels = own(sel, 'matchLabels');
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isObject(matchLabels)) return badShape('matchLabels', matchLabels, 'map[string]string');
    for (const [key, value] of Object.entries(matchLabels)) {
      if (typeof value !== 'string') return badShape(`matchLabels.${key}`, value, 'string');
      const r = newRequirement(key, '=', [value]);
      if (!r.ok) return fail(400, 'BadRequest', r.message);
      requirements.push(r.value);
    }
  }
  const expressions = own(sel, 'matchExpressions');
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions))
      return badShape('matchExpressions', expressions, '[]v1.LabelSelectorRequirement');
    for (const expr of expressions) {
      if (!isObject(expr)) return badShape('matchExpressions', expr, 'v1.LabelSelectorRequirement');
      const key = own(expr, 'key') ?? '';
      const operator = own(expr, 'operator') ?? '';
      const rawValues = own(expr, 'values') ?? [];
      if (typeof key !== 'string') return badShape('key', key, 'string');
      if (typeof operator !== 'string') return badShape('operator', operator, 'string');
      if (!Array.isArray(rawValues) || !rawValues.every((v): v is string => typeof v === 'string')) {
        return badShape('values', rawValues, '[]string');
      }
      const op = EXPRESSION_OPERATORS.get(operator);
      if (op === undefined)
        return fail(400, 'BadRequest', `${goQuote(operator)} is not a valid label selector operator`);
      // kube copies values into a nil slice, so "no values" renders as []string(nil) in messages.
      const r = newRequirement(key, op, rawValues.length === 0 ? null : [...rawValues]);
      if (!r.ok) return fail(400, 'BadRequest', r.message);
      requirements.push(r.value);
    }
  }
  return ok({ requirements: sortByKey(requirements), matchesNothing: false });
}

/** kube's Selector.String(), e.g. `app=web,tier in (a,b)`; '' for everything and for nothing. */
export function formatLabelSelector(sel: LabelSelector): string {
  if (sel.matchesNothing) return '';
  return sel.requirements.map(formatRequirement).join(',');
}

const EXPRESSION_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map([
  ['In', 'in'],
  ['NotIn', 'notin'],
  ['Exists', 'exists'],
  ['DoesNotExist', '!'],
] as const);

function badShape(field: string, value: Json | undefined, goType: string): Result<never> {
  return fail(
    400,
    'BadRequest',
    `json: cannot unmarshal ${jsonKind(value ?? null)} into Go value of type ${goType} (${field})`,
  );
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && r.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      const actual = value === undefined ? undefined : parseGoInt64(value);
      const wanted = r.values.length === 1 ? parseGoInt64(r.values[0] ?? '') : undefined;
      if (actual === undefined || wanted === undefined) return false;
      return r.operator === 'gt' ? actual > wanted : actual < wanted;
    }
  }
}

function formatRequirement(r: LabelRequirement): string {
  const prefix = r.operator === '!' ? '!' : '';
  if (r.operator === 'exists' || r.operator === '!') return prefix + r.key;
  const values = r.values.length === 1 ? (r.values[0] ?? '') : [...r.values].sort(compareBytes).join(',');
  switch (r.operator) {
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** Stable by key, like kube's sort of ByKey for the selector sizes seen in practice. */
function sortByKey(reqs: LabelRequirement[]): LabelRequirement[] {
  return [...reqs].sort((a, b) => compareBytes(a.key, b.key));
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const parsed = <T>(value: T): Parsed<T> => ({ ok: true, value });
const parseError = (message: string): Parsed<never> => ({ ok: false, message });

/**
 * kube's NewRequirement: validates key, value count per operator and each value. `values` null
 * stands for Go's nil slice (only visible in error messages).
 */
function newRequirement(
  key: string,
  operator: LabelOperator,
  values: string[] | null,
): Parsed<LabelRequirement> {
  const errors: string[] = [];
  const keyErrors = qualifiedNameErrors(key);
  if (keyErrors.length > 0) errors.push(fieldInvalid('key', goQuote(key), keyErrors.join('; ')));
  const vals = values ?? [];
  const shown = goStringSlice(values);
  switch (operator) {
    case 'in':
    case 'notin':
      if (vals.length === 0) {
        errors.push(fieldInvalid('values', shown, "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1) {
        errors.push(fieldInvalid('values', shown, 'exact-match compatibility requires one single value'));
      }
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0) {
        errors.push(fieldInvalid('values', shown, 'values set must be empty for exists and does not exist'));
      }
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1) {
        errors.push(fieldInvalid('values', shown, "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      vals.forEach((v, i) => {
        if (parseGoInt64(v) === undefined) {
          errors.push(
            fieldInvalid(
              `values[${i}]`,
              goQuote(v),
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
  }
  vals.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length > 0)
      errors.push(fieldInvalid(`values[${i}][${key}]`, goQuote(v), valueErrors.join('; ')));
  });
  if (errors.length > 0) return parseError(aggregate(errors));
  return parsed({ key, operator, values: vals });
}

/** field.Invalid(...).Error(): `<path>: Invalid value: <value>: <detail>`. */
function fieldInvalid(path: string, shownValue: string, detail: string): string {
  return `${path}: Invalid value: ${shownValue}: ${detail}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several de-duplicated in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

type LabelToken =
  'end' | 'error' | 'identifier' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'in' | 'notin';

interface Scanned {
  tok: LabelToken;
  lit: string;
}

const LITERAL_TOKENS: ReadonlyMap<string, LabelToken> = new Map<string, LabelToken>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch) && ch !== '';

/** Byte-wise lexer of kube's label selector grammar; NUL (or the end) ends the input. */
function lexLabelSelector(s: string): Scanned[] {
  let pos = 0;
  const read = (): string => (pos < s.length ? s.charAt(pos++) : '\0');
  const unread = (): void => {
    pos--;
  };
  const scanIdentifier = (): Scanned => {
    let buf = '';
    for (;;) {
      const ch = read();
      if (ch === '\0') break;
      if (isSpecial(ch) || isWhitespace(ch)) {
        unread();
        break;
      }
      buf += ch;
    }
    return { tok: LITERAL_TOKENS.get(buf) ?? 'identifier', lit: buf };
  };
  const scanSpecial = (): Scanned => {
    let last: Scanned | undefined;
    let buf = '';
    for (;;) {
      const ch = read();
      if (ch === '\0') break;
      if (!isSpecial(ch)) {
        unread();
        break;
      }
      buf += ch;
      const tok = LITERAL_TOKENS.get(buf);
      if (tok !== undefined) {
        last = { tok, lit: buf };
      } else if (last !== undefined) {
        unread();
        break;
      }
    }
    return last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` };
  };
  const items: Scanned[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    let item: Scanned;
    if (ch === '\0') {
      item = { tok: 'end', lit: '' };
    } else {
      unread();
      item = isSpecial(ch) ? scanSpecial() : scanIdentifier();
    }
    items.push(item);
    if (item.tok === 'end') return items;
  }
}

type ParseContext = 'keyAndOperator' | 'values';

/** Recursive-descent parser mirroring kube's, so that every error names the same token. */
class LabelParser {
  private readonly items: Scanned[];
  private position = 0;

  constructor(raw: string) {
    this.items = lexLabelSelector(raw);
  }

  parse(): Parsed<LabelRequirement[]> {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === 'end') return parsed(requirements);
      if (tok !== 'identifier' && tok !== '!') {
        return parseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      const r = this.parseRequirement();
      if (!r.ok) return parseError(`unable to parse requirement: ${r.message}`);
      requirements.push(r.value);
      const next = this.consume('values');
      if (next.tok === 'end') return parsed(requirements);
      if (next.tok !== ',') return parseError(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.lookahead('values');
      if (after.tok !== 'identifier' && after.tok !== '!') {
        return parseError(`found '${after.lit}', expected: identifier after ','`);
      }
    }
  }

  private token(offset: number, context: ParseContext): Scanned {
    const item = this.items[Math.min(offset, this.items.length - 1)] ?? { tok: 'end', lit: '' };
    if (context === 'values' && (item.tok === 'in' || item.tok === 'notin')) {
      return { tok: 'identifier', lit: item.lit };
    }
    return item;
  }

  private lookahead(context: ParseContext): Scanned {
    return this.token(this.position, context);
  }

  private consume(context: ParseContext): Scanned {
    const item = this.token(this.position, context);
    this.position++;
    return item;
  }

  private parseRequirement(): Parsed<LabelRequirement> {
    let first = this.consume('values');
    let unary: LabelOperator | undefined;
    if (first.tok === '!') {
      unary = '!';
      first = this.consume('values');
    }
    if (first.tok !== 'identifier') return parseError(`found '${first.lit}', expected: identifier`);
    const key = first.lit;
    const keyErrors = qualifiedNameErrors(key);
    // The parser validates the key with a nil field path, hence kube's "<nil>:" prefix.
    if (keyErrors.length > 0) return parseError(fieldInvalid('<nil>', goQuote(key), keyErrors.join('; ')));
    const following = this.lookahead('values').tok;
    if (following === 'end' || following === ',') unary ??= 'exists';
    if (unary !== undefined) return newRequirement(key, unary, []);

    const op = this.consume('keyAndOperator');
    const operator = BINARY_TOKENS.get(op.tok);
    if (operator === undefined) return parseError(`found '${op.lit}', expected: ${BINARY_OPERATORS}`);
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    if (!values.ok) return values;
    return newRequirement(key, operator, [...values.value].sort(compareBytes));
  }

  private parseValues(): Parsed<Set<string>> {
    const open = this.consume('values');
    if (open.tok !== '(') return parseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead('values');
    if (tok === ')') {
      this.consume('values');
      return parsed(new Set(['']));
    }
    if (tok !== 'identifier' && tok !== ',')
      return parseError(`found '${lit}', expected: ',', ')' or identifier`);
    const list = this.parseIdentifierList();
    if (!list.ok) return list;
    if (this.consume('values').tok !== ')') return parseError(`found '${lit}', expected: ')'`);
    return list;
  }

  private parseIdentifierList(): Parsed<Set<string>> {
    const values = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume('values');
      if (tok === 'identifier') {
        values.add(lit);
        const next = this.lookahead('values');
        if (next.tok === ',') continue;
        if (next.tok === ')') return parsed(values);
        return parseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok !== ',') return parseError(`found '${lit}', expected: ',', or identifier`);
      // Empty entries ("(,", ",,", ",)") stand for the empty value.
      if (values.size === 0) values.add('');
      const next = this.lookahead('values').tok;
      if (next === ')') {
        values.add('');
        return parsed(values);
      }
      if (next === ',') {
        this.consume('values');
        values.add('');
      }
    }
  }

  private parseExactValue(): Parsed<Set<string>> {
    const next = this.lookahead('values').tok;
    if (next === 'end' || next === ',') return parsed(new Set(['']));
    const { tok, lit } = this.consume('values');
    if (tok === 'identifier') return parsed(new Set([lit]));
    return parseError(`found '${lit}', expected: identifier`);
  }
}

const BINARY_TOKENS: ReadonlyMap<LabelToken, LabelOperator> = new Map<LabelToken, LabelOperator>([
  ['in', 'in'],
  ['=', '='],
  ['==', '=='],
  ['>', 'gt'],
  ['<', 'lt'],
  ['notin', 'notin'],
  ['!=', '!='],
]);

// ---------------------------------------------------------------------------------------------
// Field selectors

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  /** Unescaped (`\,` `\=` `\\` resolved). */
  value: string;
}

export interface FieldSelector {
  /** ANDed together, in kube's (sorted term) order. No requirements matches everything. */
  requirements: FieldRequirement[];
}

/**
 * `resourceLabel` for built-in kinds without their own field-label conversion (ConfigMap,
 * Deployment, ReplicaSet, Lease, …): kube answers an unsupported field with
 * `"x" is not a known field selector: only "metadata.name", "metadata.namespace"`.
 */
export const FIELD_LABELS_METAV1_DEFAULT = 'builtin';

/**
 * `resourceLabel` for custom resources and for kinds with a registered conversion (Pod, core and
 * events.k8s.io Event, Secret, Namespace, Node, …): `field label not supported: x`. '' means the same.
 */
export const FIELD_LABELS_REGISTERED = 'custom';

/**
 * Parses the `fieldSelector` query parameter (kube's fields.ParseSelector, then the resource's
 * field-label conversion). `supported` lists the fields the resource accepts. `resourceLabel`
 * selects kube's wording for an unsupported field: FIELD_LABELS_METAV1_DEFAULT,
 * FIELD_LABELS_REGISTERED (or ''), or any other name, e.g. 'appsv1beta2.StatefulSet', for
 * `field label not supported for <name>: x`. All failures are 400 BadRequest.
 */
export function parseFieldSelector(
  raw: string,
  supported: readonly string[],
  resourceLabel: string,
): Result<FieldSelector> {
  const terms = splitFieldTerms(raw).sort(compareBytes);
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const split = splitFieldTerm(term);
    if (split === undefined) {
      return fail(400, 'BadRequest', `invalid selector: '${raw}'; can't understand '${term}'`);
    }
    const value = unescapeFieldValue(split.rhs);
    if (!value.ok) return fail(400, 'BadRequest', value.message);
    requirements.push({ field: split.lhs, operator: split.operator, value: value.value });
  }
  for (const r of requirements) {
    if (!supported.includes(r.field))
      return fail(400, 'BadRequest', unsupportedField(r.field, resourceLabel));
  }
  return ok({ requirements });
}

/** A missing field counts as the empty string, as in kube's fields.Set. */
export function matchFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.requirements.every((r) => {
    const actual = Object.hasOwn(fields, r.field) ? (fields[r.field] ?? '') : '';
    return r.operator === '!=' ? actual !== r.value : actual === r.value;
  });
}

function unsupportedField(field: string, resourceLabel: string): string {
  if (resourceLabel === FIELD_LABELS_METAV1_DEFAULT) {
    return `${goQuote(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
  }
  if (resourceLabel === FIELD_LABELS_REGISTERED || resourceLabel === '')
    return `field label not supported: ${field}`;
  return `field label not supported for ${resourceLabel}: ${field}`;
}

/** Splits on commas not escaped by a backslash. */
function splitFieldTerms(raw: string): string[] {
  if (raw === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(raw.slice(start));
  return terms;
}

/** The first position where `!=`, `==` or `=` starts splits the term; whitespace is kept. */
function splitFieldTerm(term: string): { lhs: string; operator: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const operator of ['!=', '==', '='] as const) {
      if (term.startsWith(operator, i)) {
        return { lhs: term.slice(0, i), operator, rhs: term.slice(i + operator.length) };
      }
    }
  }
  return undefined;
}

function unescapeFieldValue(s: string): Parsed<string> {
  let out = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        return parseError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      // kube prints the rune with %v, i.e. as its code point number.
      return parseError(`invalid field selector: unescaped character in value: ${c.codePointAt(0) ?? 0}`);
    } else {
      out += c;
    }
  }
  if (escaped) return parseError('invalid field selector: invalid escape sequence: \\');
  return parsed(out);
}

// ---------------------------------------------------------------------------------------------
// Validation of label keys and values: the shared validators, under the names this module exports.

/** kube's IsQualifiedName (label and annotation keys): its messages, empty when valid. */
export const qualifiedNameErrors = qualifiedName;
/** kube's IsValidLabelValue: its messages, empty when valid. */
export const labelValueErrors = labelValue;

// ---------------------------------------------------------------------------------------------
// Go formatting helpers

/** Byte-wise (for the BMP: code-unit) string order, as Go's sort.Strings. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strconv.ParseInt(s, 10, 64): undefined when Go would fail. */
function parseGoInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > 9223372036854775807n || n < -9223372036854775808n ? undefined : n;
}

/** Go's %#v of a []string; null is the nil slice. */
function goStringSlice(values: string[] | null): string {
  if (values === null) return '[]string(nil)';
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

function jsonKind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function own(obj: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
