// The InfluxDB metric provider: Flux queries over the v2 API (POST /api/v2/query), answered as annotated CSV,
// with the secret keys token and org (as in Flagger).
import type { MetricResult, MetricsProvider, ProviderSettings, QueryOptions, Result } from '../types.js';
import { HttpClient, asRecord, guard, guardHealth, isHtml, snippet } from './http.js';
import {
  fail,
  optionalSecret,
  parseAddress,
  parseHeaders,
  parseTimeoutMs,
  requiredSecret,
} from './settings.js';

export class InfluxdbProvider implements MetricsProvider {
  readonly type = 'influxdb';

  constructor(
    private readonly http: HttpClient,
    private readonly org: string,
  ) {}

  /**
   * POST /api/v2/query?org=… with the Flux query as body. The value is the `_value` of the last row of the single
   * table; no rows (or only empty values) is no-data, several tables multiple-series, an error table or a
   * non-numeric `_value` bad-query. Never rejects.
   */
  query(query: string, opts: QueryOptions = {}): Promise<MetricResult> {
    return guard(this.http.where, async () => {
      const sent = await this.http.send({
        method: 'POST',
        path: '/api/v2/query',
        params: { org: this.org },
        headers: { Accept: 'application/csv', 'Content-Type': 'application/vnd.flux' },
        body: query,
        signal: opts.signal,
      });
      if (!sent.ok) return sent.failure;
      if (isHtml(sent.answer)) {
        return this.http.malformed('HTML, not CSV: is the address right?');
      }
      return this.interpret(sent.answer.text);
    });
  }

  /** Whether the server answers: GET /health (status "pass"). It does not check the token. */
  health(opts: QueryOptions = {}): Promise<{ ok: true } | { ok: false; message: string }> {
    return guardHealth(this.http.where, async () => {
      const sent = await this.http.sendJson({ method: 'GET', path: '/health', signal: opts.signal });
      if (!sent.ok) return { ok: false, message: sent.failure.message };
      const status = asRecord(sent.json)?.['status'];
      if (status !== 'pass') {
        return { ok: false, message: `${this.http.where} reports its health as ${JSON.stringify(status)}` };
      }
      return { ok: true };
    });
  }

  private interpret(csv: string): MetricResult {
    const tables = parseFluxCsv(csv);
    const failed = tables.find((t) => t.columns.includes('error') && !t.columns.includes('_value'));
    if (failed) {
      const row = failed.rows[0];
      const error = row?.['error'] || 'no reason given';
      const reference = row?.['reference'] ? ` (reference ${row['reference']})` : '';
      return { kind: 'bad-query', message: `${this.http.where} failed the query: ${error}${reference}` };
    }
    const withRows = tables.filter((t) => t.rows.length > 0);
    // One Flux table per group key; a block of CSV may hold several tables, told apart by result and table.
    const keys = new Set<string>();
    for (const t of withRows)
      for (const row of t.rows) keys.add(`${row['result'] ?? ''}\u0000${row['table'] ?? ''}`);
    if (keys.size === 0) {
      return {
        kind: 'no-data',
        message: 'InfluxDB returned no rows for the query: check the bucket, range and filters',
      };
    }
    if (keys.size > 1) {
      return {
        kind: 'multiple-series',
        count: keys.size,
        message:
          `the query returned ${keys.size} tables, not one: group them into one, ` +
          'e.g. with group() before the aggregate',
      };
    }
    const rows = withRows.flatMap((t) => t.rows);
    if (!withRows.every((t) => t.columns.includes('_value'))) {
      return {
        kind: 'bad-query',
        message:
          'the query result has no _value column: end it with an aggregate that keeps _value, e.g. mean()',
      };
    }
    for (let i = rows.length - 1; i >= 0; i--) {
      const raw = rows[i]?.['_value'] ?? '';
      if (raw === '') continue;
      const value = parseFluxNumber(raw);
      if (value === undefined) {
        return { kind: 'bad-query', message: `the query's _value is ${snippet(raw)}, not a number` };
      }
      if (Number.isNaN(value)) {
        return { kind: 'no-data', message: 'InfluxDB returned NaN for the query' };
      }
      return { kind: 'value', value };
    }
    return { kind: 'no-data', message: 'InfluxDB returned only empty _value cells for the query' };
  }
}

export interface FluxTable {
  columns: string[];
  rows: Record<string, string>[];
}

/**
 * Parses Flux's CSV answer, annotated or not: blocks separated by blank lines, each with optional `#…`
 * annotation rows, a header row (its first column is the empty annotation column) and data rows. Missing cells
 * take the `#default` annotation.
 */
export function parseFluxCsv(text: string): FluxTable[] {
  const tables: FluxTable[] = [];
  let current: FluxTable | undefined;
  let defaults: string[] | undefined;
  for (const record of parseCsv(text)) {
    if (record.length === 0) {
      current = undefined;
      defaults = undefined;
      continue;
    }
    const first = record[0] ?? '';
    if (first.startsWith('#')) {
      if (current) current = undefined; // annotations after data start a new block
      if (first === '#default') defaults = record;
      continue;
    }
    if (!current) {
      current = { columns: record, rows: [] };
      tables.push(current);
      continue;
    }
    const row: Record<string, string> = {};
    current.columns.forEach((name, i) => {
      if (name === '') return;
      const cell = record[i] ?? '';
      row[name] = cell === '' ? (defaults?.[i] ?? '') : cell;
    });
    current.rows.push(row);
  }
  return tables;
}

/** RFC 4180 records: quoted fields with "" escapes and line breaks, CRLF or LF; a blank line is []. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let touched = false; // the current line has content (so it is not blank)
  const endRecord = (): void => {
    record.push(field);
    records.push(touched ? record : []);
    record = [];
    field = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      touched = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      touched = true;
    } else if (c === '\n') {
      endRecord();
    } else if (c === '\r' && text[i + 1] === '\n') {
      // the \n ends the record
    } else {
      field += c;
      touched = true;
    }
  }
  if (touched || field !== '' || record.length > 0) endRecord();
  return records;
}

function parseFluxNumber(raw: string): number | undefined {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const n = Number(raw);
  return raw.trim() === '' || Number.isNaN(n) ? undefined : n;
}

/**
 * Builds an InfluxDB provider. Address required; secret key token required; the organization from the secret key
 * org, else from the address' `org` query parameter (http://influxdb:8086?org=acme).
 */
export function influxdbProvider(settings: ProviderSettings): Result<MetricsProvider> {
  const address = parseAddress(settings);
  if (!address.ok) return address;
  const timeoutMs = parseTimeoutMs(settings);
  if (!timeoutMs.ok) return timeoutMs;
  const headers = parseHeaders(settings);
  if (!headers.ok) return headers;
  const token = requiredSecret(settings, 'token');
  if (!token.ok) return token;
  const org = optionalSecret(settings, 'org') ?? (address.value.searchParams.get('org')?.trim() || undefined);
  if (org === undefined) {
    return fail(settings.type, 'secret key "org" is missing (or give the address an ?org=<name> parameter)');
  }
  const http = new HttpClient({
    service: 'InfluxDB',
    baseUrl: address.value,
    timeoutMs: timeoutMs.value,
    insecureSkipVerify: settings.insecureSkipVerify === true,
    customHeaders: headers.value,
    credentialHeaders: { Authorization: `Token ${token.value}` },
    authHint: 'check the secret key "token" and that it may read the bucket in this org',
  });
  return { ok: true, value: new InfluxdbProvider(http, org) };
}
