// MetricTemplate queries: rendering Flagger's `{{ name }}`-style variables, PromQL syntax checks with the real
// PromQL grammar, and the admission check that combines both. Pure: no I/O.
import { parser } from '@prometheus-io/lezer-promql';
import { PROVIDER_TYPES, isProviderType } from './providers/provider.js';
import type { Result } from './types.js';

/** Values a query template may use. Flagger's names; `variables` holds a metric's templateVariables. */
export interface TemplateVars {
  /** canary.metadata.name */
  name: string;
  /** canary.metadata.namespace */
  namespace: string;
  /** canary.spec.targetRef.name */
  target: string;
  /** canary.spec.service.name (defaults to the target's name) */
  service: string;
  /** analysis.metrics[].interval, a PromQL duration such as `1m` */
  interval: string;
  /** analysis.metrics[].templateVariables, read as `{{ variables.KEY }}` */
  variables?: Readonly<Record<string, string>>;
}

/** 1-based, counted in UTF-16 code units as editors and the API server's messages do. */
export interface Position {
  line: number;
  column: number;
}

export type PromqlCheck = { ok: true } | { ok: false; message: string; position: Position };

/** Like Result<string> (the value is the rendered query); a syntax error also carries its template position. */
export type TemplateCheck = { ok: true; value: string } | { ok: false; message: string; position?: Position };

const SCALAR_KEYS = ['name', 'namespace', 'target', 'service', 'interval'] as const;
type ScalarKey = (typeof SCALAR_KEYS)[number];
const KNOWN_KEYS_TEXT = `${SCALAR_KEYS.join(', ')}, variables.KEY`;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Sample values admission renders with (SPEC: a query is checked before it ever runs). */
export const SAMPLE_TEMPLATE_VARS: Readonly<TemplateVars> = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo',
  interval: '1m',
};

/**
 * Stand-ins for `{{ variables.KEY }}` when admission does not know the templateVariables (a MetricTemplate on its
 * own). Tried in order; the query is accepted if one of them gives valid PromQL. `1m` fits string, duration and
 * number positions; an identifier fits metric and label-name positions.
 */
const PLACEHOLDERS = ['1m', 'placeholder'] as const;

type Ref = { kind: 'scalar'; key: ScalarKey } | { kind: 'variable'; key: string };

interface LiteralPart {
  kind: 'literal';
  text: string;
  /** Offset of `text` in the template. */
  srcStart: number;
}

interface ActionPart {
  kind: 'action';
  ref: Ref;
  /** `{{ … }}` as written, and the offset of its `{{`. */
  source: string;
  srcStart: number;
}

type Part = LiteralPart | ActionPart;

/** A template parsed once: literal text and references, or every problem found in it. */
type Parsed = { ok: true; parts: Part[] } | { ok: false; problems: string[] };

/** Offset → 1-based line and column. */
function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function where(text: string, offset: number): string {
  const p = positionAt(text, offset);
  return `line ${p.line}, column ${p.column}`;
}

function refName(ref: Ref): string {
  return ref.kind === 'scalar' ? ref.key : `variables.${ref.key}`;
}

/**
 * Splits a template into literal text and `{{ key }}` references, Go-template style: whitespace inside the braces
 * is optional, and `{{- ` / ` -}}` trim the white space before / after the action. Anything but a plain variable
 * reference (pipelines, functions, `if`) is rejected rather than passed through.
 */
function parseTemplate(template: string): Parsed {
  const parts: Part[] = [];
  const problems: string[] = [];
  let pos = 0;
  let trimNext = false;
  for (;;) {
    const open = template.indexOf('{{', pos);
    let literal = template.slice(pos, open < 0 ? undefined : open);
    let literalStart = pos;
    if (trimNext) {
      const trimmed = literal.replace(/^\s+/, '');
      literalStart += literal.length - trimmed.length;
      literal = trimmed;
      trimNext = false;
    }
    const close = open < 0 ? -1 : template.indexOf('}}', open + 2);
    let inner = open < 0 || close < 0 ? '' : template.slice(open + 2, close);
    // Go's trim markers need white space next to the dash, so `{{-1}}` would be a number, not a trim.
    const trimLeft = /^-\s/.test(inner);
    if (trimLeft) literal = literal.replace(/\s+$/, '');
    if (literal) parts.push({ kind: 'literal', text: literal, srcStart: literalStart });
    if (open < 0) break;
    if (close < 0) {
      problems.push(`unclosed "{{" at ${where(template, open)}: every "{{" needs a "}}"`);
      break;
    }
    if (trimLeft) inner = inner.slice(1);
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      trimNext = true;
    }
    const expr = inner.trim();
    const source = template.slice(open, close + 2);
    const at = where(template, open);
    pos = close + 2;
    if (!expr) {
      problems.push(`empty template action ${source} at ${at}`);
      continue;
    }
    if (!PATH.test(expr)) {
      problems.push(
        `unsupported template expression ${JSON.stringify(expr)} at ${at}: only plain variables ` +
          `(${KNOWN_KEYS_TEXT}) can be used`,
      );
      continue;
    }
    const segments = expr.split('.');
    const [head, key, ...rest] = segments;
    if ((SCALAR_KEYS as readonly string[]).includes(expr)) {
      parts.push({ kind: 'action', ref: { kind: 'scalar', key: expr as ScalarKey }, source, srcStart: open });
    } else if (head === 'variables' && key !== undefined && rest.length === 0) {
      parts.push({ kind: 'action', ref: { kind: 'variable', key }, source, srcStart: open });
    } else if (head === 'variables') {
      problems.push(
        `template variable ${JSON.stringify(expr)} at ${at} is not of the form variables.KEY ` +
          '(one key, letters, digits and underscores)',
      );
    } else {
      const hint =
        expr === 'ingress' ? ' (Flagger sets it for ingress controllers; fledge has no ingressRef)' : '';
      problems.push(
        `unknown template variable ${JSON.stringify(expr)} at ${at}${hint}; known: ${KNOWN_KEYS_TEXT}`,
      );
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, parts };
}

interface Rendered {
  text: string;
  /** For each part, where it landed in `text`. */
  spans: { outStart: number; outEnd: number; part: Part }[];
}

/** `lookup` returns the value for a reference, or undefined when it has none. */
function renderParts(
  parts: Part[],
  lookup: (ref: Ref) => string | undefined,
): { ok: true; rendered: Rendered } | { ok: false; missing: ActionPart[] } {
  let text = '';
  const spans: Rendered['spans'] = [];
  const missing: ActionPart[] = [];
  for (const part of parts) {
    const value = part.kind === 'literal' ? part.text : lookup(part.ref);
    if (value === undefined) {
      missing.push(part as ActionPart);
      continue;
    }
    spans.push({ outStart: text.length, outEnd: text.length + value.length, part });
    text += value;
  }
  return missing.length ? { ok: false, missing } : { ok: true, rendered: { text, spans } };
}

function missingMessage(template: string, part: ActionPart): string {
  const name = refName(part.ref);
  const fix =
    part.ref.kind === 'variable'
      ? `add ${JSON.stringify(part.ref.key)} to the metric's templateVariables`
      : `set ${name}`;
  return `template variable ${JSON.stringify(name)} at ${where(template, part.srcStart)} has no value: ${fix}`;
}

function scalarLookup(vars: TemplateVars): (ref: Ref) => string | undefined {
  const variables = vars.variables ?? {};
  return (ref) =>
    ref.kind === 'scalar'
      ? vars[ref.key]
      : Object.prototype.hasOwnProperty.call(variables, ref.key)
        ? variables[ref.key]
        : undefined;
}

/**
 * Renders a query template. Errors (all of them, joined with "; ") name the offending key and its line and
 * column: an unknown key, an unsupported expression, an unclosed `{{`, or a `variables.KEY` with no value.
 * Values are inserted verbatim, as Flagger does.
 */
export function renderTemplate(query: string, vars: TemplateVars): Result<string> {
  const parsed = parseTemplate(query);
  if (!parsed.ok) return { ok: false, message: parsed.problems.join('; ') };
  const out = renderParts(parsed.parts, scalarLookup(vars));
  if (!out.ok) return { ok: false, message: out.missing.map((p) => missingMessage(query, p)).join('; ') };
  return { ok: true, value: out.rendered.text };
}

interface PromqlError {
  /** Offset of the offending token (or of the end of input). */
  offset: number;
  what: string;
}

function describeToken(text: string): string {
  const short = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  return JSON.stringify(short);
}

/** Words that PromQL allows before "(", so an error there is not an unknown function. */
const KEYWORDS_BEFORE_PAREN = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
]);

/** The first error node of the lezer parse, as an offset and "unexpected …" text; undefined when none. */
function firstSyntaxError(query: string): PromqlError | undefined {
  if (!query.trim()) return { offset: 0, what: 'the query is empty' };
  let found: { from: number; to: number } | undefined;
  parser.parse(query).iterate({
    enter(node) {
      if (found) return false;
      if (node.type.isError) {
        found = { from: node.from, to: node.to };
        return false;
      }
      return undefined;
    },
  });
  if (!found) return undefined;
  // An empty error node marks a missing token: report what stands there instead.
  const covered = query.slice(found.from, found.to);
  const rest = covered.trim() ? covered : query.slice(found.from);
  const ws = /^\s*/.exec(rest)?.[0].length ?? 0;
  const offset = found.from + ws;
  const token = covered.trim()
    ? covered.trim()
    : (/^(?:[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|"(?:[^"\\]|\\.)*"?|\S)/.exec(rest.slice(ws))?.[0] ?? '');
  if (!token) return { offset, what: 'unexpected end of input' };
  if (token.startsWith('(')) {
    const before = /([A-Za-z_:][A-Za-z0-9_:]*)\s*$/.exec(query.slice(0, offset))?.[1];
    if (before && !KEYWORDS_BEFORE_PAREN.has(before.toLowerCase()))
      return {
        offset,
        what: `unexpected "(" after ${JSON.stringify(before)}, which is not a PromQL function`,
      };
  }
  return { offset, what: `unexpected ${describeToken(token)}` };
}

/**
 * Checks PromQL syntax with the PromQL grammar (@prometheus-io/lezer-promql). Reports the first error with its
 * 1-based line and column, e.g. `PromQL syntax error at line 1, column 17: unexpected ")"`. Syntax only: metric
 * names, label names and function argument types are not checked.
 */
export function checkPromql(query: string): PromqlCheck {
  const err = firstSyntaxError(query);
  if (!err) return { ok: true };
  const position = positionAt(query, err.offset);
  return {
    ok: false,
    message: `PromQL syntax error at line ${position.line}, column ${position.column}: ${err.what}`,
    position,
  };
}

/**
 * Maps an offset of rendered text back to the template. Inside a substituted value it maps to the action's `{{`
 * and also says which action and what value.
 */
function sourceOffset(
  rendered: Rendered,
  templateLength: number,
  offset: number,
): { src: number; action?: ActionPart; value?: string } {
  for (const span of rendered.spans) {
    if (offset < span.outStart || offset >= span.outEnd) continue;
    if (span.part.kind === 'literal') return { src: span.part.srcStart + (offset - span.outStart) };
    return {
      src: span.part.srcStart,
      action: span.part,
      value: rendered.text.slice(span.outStart, span.outEnd),
    };
  }
  return { src: templateLength };
}

export interface TemplateValidationOptions {
  /**
   * The metric's templateVariables when they are known (a Canary referencing the template): a `variables.KEY`
   * missing from them is then an error. Without them (a MetricTemplate on its own) each key gets a placeholder.
   */
  variables?: Readonly<Record<string, string>>;
  /** The metric's interval; default the sample `1m`. */
  interval?: string;
}

/**
 * What admission of a MetricTemplate or Canary calls: renders the query with sample values
 * (SAMPLE_TEMPLATE_VARS) and, for prometheus, checks the result's syntax. Positions in messages point into the
 * template as written. On success the value is the rendered sample query.
 */
export function validateTemplateQuery(
  query: string,
  providerType: string,
  opts: TemplateValidationOptions = {},
): TemplateCheck {
  // Only prometheus queries have a grammar we check; the others are rendered, which catches unknown keys.
  if (!isProviderType(providerType)) {
    return {
      ok: false,
      message: `unknown provider type ${JSON.stringify(providerType)}; expected one of ${PROVIDER_TYPES.join(', ')}`,
    };
  }
  if (!query.trim()) return { ok: false, message: 'the query is empty' };
  const parsed = parseTemplate(query);
  if (!parsed.ok) return { ok: false, message: parsed.problems.join('; ') };
  const vars: TemplateVars = {
    ...SAMPLE_TEMPLATE_VARS,
    ...(opts.interval !== undefined ? { interval: opts.interval } : {}),
  };
  const known = scalarLookup({ ...vars, variables: opts.variables ?? {} });
  const usesPlaceholder =
    opts.variables === undefined &&
    parsed.parts.some((p) => p.kind === 'action' && p.ref.kind === 'variable');
  const candidates: readonly (string | undefined)[] = usesPlaceholder ? PLACEHOLDERS : [undefined];

  let firstFailure: TemplateCheck | undefined;
  for (const placeholder of candidates) {
    const out = renderParts(parsed.parts, (ref) =>
      ref.kind === 'variable' && placeholder !== undefined ? placeholder : known(ref),
    );
    if (!out.ok) return { ok: false, message: out.missing.map((p) => missingMessage(query, p)).join('; ') };
    if (providerType !== 'prometheus') return { ok: true, value: out.rendered.text };
    const err = firstSyntaxError(out.rendered.text);
    if (!err) return { ok: true, value: out.rendered.text };
    if (!firstFailure) {
      const mapped = sourceOffset(out.rendered, query.length, err.offset);
      const position = positionAt(query, mapped.src);
      const inside = mapped.action
        ? ` (in the value substituted for ${mapped.action.source}: ${JSON.stringify(mapped.value ?? '')})`
        : '';
      firstFailure = {
        ok: false,
        message: `PromQL syntax error at line ${position.line}, column ${position.column}: ${err.what}${inside}`,
        position,
      };
    }
  }
  return firstFailure ?? { ok: false, message: 'the query could not be checked' };
}
