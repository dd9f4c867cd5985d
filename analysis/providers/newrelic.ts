// The New Relic metric provider: NRQL through the NerdGraph GraphQL API, with the secret keys newrelic_api_key
// (sent as API-Key) and newrelic_account_id (as in Flagger).
import type { MetricResult, MetricsProvider, ProviderSettings, QueryOptions, Result } from '../types.js';
import { HttpClient, asRecord, guard, guardHealth, messageField } from './http.js';
import { fail, parseAddress, parseHeaders, parseTimeoutMs, requiredSecret } from './settings.js';

export const NEWRELIC_DEFAULT_ADDRESS = 'https://api.newrelic.com/graphql';

// The NRQL text and the account travel as GraphQL variables, so a query needs no escaping.
const NRQL_DOCUMENT =
  'query ($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) { results } } } }';
const PING_DOCUMENT = '{ actor { user { name } } }';

export class NewRelicProvider implements MetricsProvider {
  readonly type = 'newrelic';

  constructor(
    private readonly http: HttpClient,
    private readonly path: string,
    private readonly accountId: number,
  ) {}

  /**
   * POST the NerdGraph document `{ actor { account(id) { nrql(query) { results } } } }`. The value is the single
   * numeric field of the single result (a one-number object such as percentile's {"99": x} counts as one);
   * no results or a null field is no-data, several results (FACET, TIMESERIES) multiple-series. Never rejects.
   */
  query(query: string, opts: QueryOptions = {}): Promise<MetricResult> {
    return guard(this.http.where, async () => {
      const sent = await this.http.sendJson({
        method: 'POST',
        path: this.path,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: NRQL_DOCUMENT, variables: { accountId: this.accountId, nrql: query } }),
        signal: opts.signal,
      });
      if (!sent.ok) return sent.failure;
      return this.interpret(sent.json);
    });
  }

  /** Whether NerdGraph accepts the API key: `{ actor { user { name } } }`. */
  health(opts: QueryOptions = {}): Promise<{ ok: true } | { ok: false; message: string }> {
    return guardHealth(this.http.where, async () => {
      const sent = await this.http.sendJson({
        method: 'POST',
        path: this.path,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: PING_DOCUMENT }),
        signal: opts.signal,
      });
      if (!sent.ok) return { ok: false, message: sent.failure.message };
      const errors = graphqlErrors(sent.json);
      if (errors !== undefined) return { ok: false, message: `${this.http.where} answered: ${errors}` };
      return { ok: true };
    });
  }

  private interpret(json: unknown): MetricResult {
    const body = asRecord(json);
    if (body === undefined) return this.http.malformed('JSON that is not a GraphQL response');
    const errors = graphqlErrors(body);
    if (errors !== undefined) {
      return { kind: 'bad-query', message: `${this.http.where} rejected the query: ${errors}` };
    }
    const account = asRecord(asRecord(asRecord(body['data'])?.['actor'])?.['account']);
    const results = asRecord(account?.['nrql'])?.['results'];
    if (!Array.isArray(results))
      return this.http.malformed('a response without data.actor.account.nrql.results');
    if (results.length === 0) {
      return { kind: 'no-data', message: 'New Relic returned no results for the NRQL query' };
    }
    if (results.length > 1) {
      return {
        kind: 'multiple-series',
        count: results.length,
        message:
          `the NRQL query returned ${results.length} results, not one: ` +
          'drop FACET and TIMESERIES so that it returns a single row',
      };
    }
    const result = asRecord(results[0]);
    if (result === undefined) return this.http.malformed('a result that is not an object');
    const fields = numericFields(result, '');
    if (fields.length === 0) {
      return { kind: 'bad-query', message: 'the NRQL result has no numeric field: select one number' };
    }
    if (fields.length > 1) {
      return {
        kind: 'bad-query',
        message: `the NRQL result has ${fields.length} numeric fields (${fields
          .map(([name]) => name)
          .join(', ')}), not one: select a single value`,
      };
    }
    const [name, value] = fields[0] ?? ['', null];
    if (value === null || Number.isNaN(value)) {
      return {
        kind: 'no-data',
        message: `New Relic returned no value for ${name} (no events in the window?)`,
      };
    }
    return { kind: 'value', value };
  }
}

/** Leaves of a result that are numbers or null (an aggregate with no events), with dotted names. */
function numericFields(obj: Record<string, unknown>, prefix: string): [string, number | null][] {
  const out: [string, number | null][] = [];
  for (const [key, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof v === 'number' || v === null) out.push([name, v]);
    else {
      const nested = asRecord(v);
      if (nested !== undefined) out.push(...numericFields(nested, name));
    }
  }
  return out;
}

/** The GraphQL `errors` messages joined, or undefined when there are none. */
function graphqlErrors(json: unknown): string | undefined {
  const errors = asRecord(json)?.['errors'];
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors.map((e: unknown) => messageField(e) ?? JSON.stringify(e)).join('; ');
}

/**
 * Builds a New Relic provider. Address: the NerdGraph endpoint, default https://api.newrelic.com/graphql (EU:
 * https://api.eu.newrelic.com/graphql; `/graphql` is added when the address has no path). Secret keys
 * newrelic_api_key and newrelic_account_id (a whole number) are required.
 */
export function newrelicProvider(settings: ProviderSettings): Result<MetricsProvider> {
  const address = parseAddress(settings, NEWRELIC_DEFAULT_ADDRESS);
  if (!address.ok) return address;
  const timeoutMs = parseTimeoutMs(settings);
  if (!timeoutMs.ok) return timeoutMs;
  const headers = parseHeaders(settings);
  if (!headers.ok) return headers;
  const apiKey = requiredSecret(settings, 'newrelic_api_key');
  if (!apiKey.ok) return apiKey;
  const account = requiredSecret(settings, 'newrelic_account_id');
  if (!account.ok) return account;
  const accountId = account.value.trim();
  if (!/^\d+$/.test(accountId) || !Number.isSafeInteger(Number(accountId))) {
    return fail(settings.type, `secret key "newrelic_account_id" must be a whole number, got "${accountId}"`);
  }
  // The endpoint is the address itself; a bare host gets NerdGraph's path.
  const url = address.value;
  const path = url.pathname === '/' || url.pathname === '' ? '/graphql' : '';
  const http = new HttpClient({
    service: 'New Relic',
    baseUrl: url,
    timeoutMs: timeoutMs.value,
    insecureSkipVerify: settings.insecureSkipVerify === true,
    customHeaders: headers.value,
    credentialHeaders: { 'API-Key': apiKey.value },
    authHint: 'check the secret key "newrelic_api_key" (a User key, NRAK-…) and the region of the address',
  });
  return { ok: true, value: new NewRelicProvider(http, path, Number(accountId)) };
}
