// The metric-provider factory and the third-party providers (Datadog, Graphite, InfluxDB, New Relic) against
// nock: the requests they send, how they read answers, and how every failure becomes a MetricResult.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { datadogProvider } from '../../analysis/providers/datadog.js';
import { renderParams } from '../../analysis/providers/graphite.js';
import { parseCsv, parseFluxCsv } from '../../analysis/providers/influxdb.js';
import { MAX_RESPONSE_BYTES, PROVIDER_TYPES, createProvider } from '../../analysis/providers/provider.js';
import type { ProviderQueryOptions } from '../../analysis/providers/provider.js';
import type { MetricResult, MetricsProvider, ProviderSettings } from '../../analysis/types.js';

function make(settings: ProviderSettings): MetricsProvider {
  const created = createProvider(settings);
  if (!created.ok) throw new Error(created.message);
  return created.value;
}

/** Options with the metric's interval: a ProviderQueryOptions value passes where QueryOptions is declared. */
const interval = (intervalMs: number): ProviderQueryOptions => ({ intervalMs });

/** A socket error as Node raises it (nock passes a plain object on in a way axios never sees). */
const netError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe('createProvider', () => {
  const dd = { datadog_api_key: 'k', datadog_application_key: 'a' };

  it('names the valid types when the type is unknown', () => {
    expect(createProvider({ type: 'foo' })).toEqual({
      ok: false,
      message:
        'unknown metric provider type "foo": expected one of prometheus, datadog, graphite, influxdb, newrelic',
    });
    expect(createProvider({ type: 'Prometheus', address: 'http://p:9090' }).ok).toBe(false);
  });

  it('builds every type from valid settings', () => {
    const valid: Record<string, ProviderSettings> = {
      prometheus: { type: 'prometheus', address: 'http://prometheus:9090' },
      datadog: { type: 'datadog', secret: dd },
      graphite: { type: 'graphite', address: 'http://graphite' },
      influxdb: { type: 'influxdb', address: 'http://influx:8086', secret: { token: 't', org: 'o' } },
      newrelic: { type: 'newrelic', secret: { newrelic_api_key: 'NRAK-1', newrelic_account_id: '42' } },
    };
    for (const type of PROVIDER_TYPES) {
      const settings = valid[type];
      if (!settings) throw new Error(`no case for ${type}`);
      const created = createProvider(settings);
      expect(created.ok ? created.value.type : created.message).toBe(type);
    }
  });

  const errors: { name: string; settings: ProviderSettings; message: string }[] = [
    {
      name: 'datadog without a secret',
      settings: { type: 'datadog' },
      message: 'datadog provider: secret key "datadog_api_key" is missing',
    },
    {
      name: 'datadog without the application key',
      settings: { type: 'datadog', secret: { datadog_api_key: 'k' } },
      message: 'datadog provider: secret key "datadog_application_key" is missing',
    },
    {
      name: 'datadog with an empty key',
      settings: { type: 'datadog', secret: { ...dd, datadog_api_key: ' ' } },
      message: 'datadog provider: secret key "datadog_api_key" is empty',
    },
    {
      name: 'prometheus without an address',
      settings: { type: 'prometheus' },
      message: 'prometheus provider: address is missing (e.g. http://prometheus.monitoring:9090)',
    },
    {
      name: 'an address that is no URL',
      settings: { type: 'graphite', address: 'graphite:8080' },
      message: 'graphite provider: address "graphite:8080" must start with http:// or https://',
    },
    {
      name: 'an address that does not parse',
      settings: { type: 'prometheus', address: 'http://' },
      message: 'prometheus provider: address "http://" is not a URL (e.g. http://prometheus.monitoring:9090)',
    },
    {
      name: 'credentials in the address',
      settings: { type: 'prometheus', address: 'http://bob:pw@prometheus:9090' },
      message: 'prometheus provider: address must not contain credentials: put them in the secret',
    },
    {
      name: 'prometheus with a username but no password',
      settings: { type: 'prometheus', address: 'http://p', secret: { username: 'u' } },
      message: 'prometheus provider: secret key "password" is missing (it has "username")',
    },
    {
      name: 'prometheus with both a token and basic auth',
      settings: {
        type: 'prometheus',
        address: 'http://p',
        secret: { token: 't', username: 'u', password: 'p' },
      },
      message:
        'prometheus provider: the secret has both "token" and "username"/"password": keep one way to authenticate',
    },
    {
      name: 'graphite with a password but no username',
      settings: { type: 'graphite', address: 'http://g', secret: { password: 'p' } },
      message: 'graphite provider: secret key "username" is missing (it has "password")',
    },
    {
      name: 'influxdb without a token',
      settings: { type: 'influxdb', address: 'http://i:8086', secret: { org: 'o' } },
      message: 'influxdb provider: secret key "token" is missing',
    },
    {
      name: 'influxdb without an org',
      settings: { type: 'influxdb', address: 'http://i:8086', secret: { token: 't' } },
      message:
        'influxdb provider: secret key "org" is missing (or give the address an ?org=<name> parameter)',
    },
    {
      name: 'newrelic without an account id',
      settings: { type: 'newrelic', secret: { newrelic_api_key: 'NRAK-1' } },
      message: 'newrelic provider: secret key "newrelic_account_id" is missing',
    },
    {
      name: 'newrelic with an account id that is no number',
      settings: { type: 'newrelic', secret: { newrelic_api_key: 'NRAK-1', newrelic_account_id: '12a' } },
      message: 'newrelic provider: secret key "newrelic_account_id" must be a whole number, got "12a"',
    },
    {
      name: 'a timeout that is not positive',
      settings: { type: 'prometheus', address: 'http://p', timeoutMs: 0 },
      message: 'prometheus provider: timeoutMs must be a positive number of milliseconds, got 0',
    },
    {
      name: 'a header name with a space',
      settings: { type: 'datadog', secret: dd, headers: { 'X Team': 'a' } },
      message: 'datadog provider: header name "X Team" is not a valid HTTP header',
    },
    {
      name: 'a header value with a line break',
      settings: { type: 'datadog', secret: dd, headers: { 'X-Team': 'a\r\nX-Evil: 1' } },
      message: 'datadog provider: header "X-Team" has a line break or NUL in its value',
    },
  ];
  it.each(errors)('refuses $name', ({ settings, message }) => {
    expect(createProvider(settings)).toEqual({ ok: false, message });
  });
});

describe('DatadogProvider', () => {
  const secret = { datadog_api_key: 'api-key-1', datadog_application_key: 'app-key-2' };
  const NOW_MS = 1_700_000_000_500;
  const fixed = (settings: Omit<ProviderSettings, 'type'> = {}): MetricsProvider => {
    const created = datadogProvider({ type: 'datadog', secret, ...settings }, () => NOW_MS);
    if (!created.ok) throw new Error(created.message);
    return created.value;
  };
  const series = (points: [number, number | null][], scope = 'service:web') => ({
    scope,
    expression: `avg:trace.http.request.errors{${scope}}`,
    pointlist: points,
  });

  it('queries the v1 API over the interval with both keys, and returns the last non-null point', async () => {
    const scope = nock('https://api.datadoghq.com', {
      reqheaders: { 'DD-API-KEY': 'api-key-1', 'DD-APPLICATION-KEY': 'app-key-2', 'X-Team': 'web' },
    })
      .get('/api/v1/query')
      .query({ from: '1699999700', to: '1700000000', query: 'avg:trace.errors{service:web}.as_count()' })
      .reply(200, {
        status: 'ok',
        res_type: 'time_series',
        series: [
          series([
            [1699999800000, 1.5],
            [1699999900000, 2.5],
            [1700000000000, null],
          ]),
        ],
      });
    const p = fixed({ headers: { 'X-Team': 'web', 'dd-api-key': 'not this one' } });
    const r = await p.query('avg:trace.errors{service:web}.as_count()', interval(300_000));
    expect(r).toEqual({ kind: 'value', value: 2.5 });
    scope.done();
  });

  it('uses a one-minute window by default and the address when one is given', async () => {
    const scope = nock('https://api.datadoghq.eu')
      .get('/api/v1/query')
      .query({ from: '1699999940', to: '1700000000', query: 'q' })
      .reply(200, { status: 'ok', series: [series([[1, 0]])] });
    expect(await fixed({ address: 'https://api.datadoghq.eu' }).query('q')).toEqual({
      kind: 'value',
      value: 0,
    });
    scope.done();
  });

  const answers: { name: string; status: number; body: string | object; want: MetricResult }[] = [
    {
      name: 'no series',
      status: 200,
      body: { status: 'ok', series: [] },
      want: {
        kind: 'no-data',
        message: 'Datadog returned no series for the query in the last 60 s: check the metric and its tags',
      },
    },
    {
      name: 'only null points',
      status: 200,
      body: { status: 'ok', series: [series([[1, null]])] },
      want: { kind: 'no-data', message: 'Datadog returned a series without points in the last 60 s' },
    },
    {
      name: 'two series',
      status: 200,
      body: { status: 'ok', series: [series([[1, 1]], 'version:v1'), series([[1, 2]], 'version:v2')] },
      want: {
        kind: 'multiple-series',
        count: 2,
        message:
          'the query returned 2 series (version:v1, version:v2), not one: aggregate it without "by {…}"',
      },
    },
    {
      name: 'status error',
      status: 200,
      body: { status: 'error', error: 'Rule parse error: bad metric name' },
      want: {
        kind: 'bad-query',
        message: 'Datadog at https://api.datadoghq.com rejected the query: Rule parse error: bad metric name',
      },
    },
    {
      name: 'a 400 with errors',
      status: 400,
      body: { errors: ['Error parsing query: unexpected token'] },
      want: {
        kind: 'bad-query',
        message:
          'Datadog at https://api.datadoghq.com rejected the query (HTTP 400): Error parsing query: unexpected token',
      },
    },
    {
      name: 'a 403',
      status: 403,
      body: { errors: ['Forbidden'] },
      want: {
        kind: 'unauthorized',
        message:
          'Datadog at https://api.datadoghq.com refused the credentials (HTTP 403: Forbidden): check the secret keys ' +
          '"datadog_api_key" and "datadog_application_key" (and that they belong to this site)',
      },
    },
    {
      name: 'an HTML page',
      status: 200,
      body: '<!DOCTYPE html><html><body>Welcome</body></html>',
      want: {
        kind: 'unreachable',
        message: 'Datadog at https://api.datadoghq.com answered HTML, not JSON: is the address right?',
      },
    },
    {
      name: 'malformed JSON',
      status: 200,
      body: '{"status": "ok", "series": [',
      want: {
        kind: 'unreachable',
        message:
          'Datadog at https://api.datadoghq.com answered something that is not JSON: {"status": "ok", "series": [',
      },
    },
    {
      name: 'JSON without series',
      status: 200,
      body: { status: 'ok' },
      want: {
        kind: 'unreachable',
        message: 'Datadog at https://api.datadoghq.com answered a query response without a series list',
      },
    },
    {
      name: 'a 502',
      status: 502,
      body: 'upstream connect error',
      want: {
        kind: 'unreachable',
        message: 'Datadog at https://api.datadoghq.com failed with HTTP 502: upstream connect error',
      },
    },
  ];
  it.each(answers)('maps $name', async ({ status, body, want }) => {
    const scope = nock('https://api.datadoghq.com').get('/api/v1/query').query(true).reply(status, body);
    expect(await fixed().query('avg:x{*}')).toEqual(want);
    scope.done();
  });

  it('gives up after timeoutMs on a slow answer', async () => {
    nock('https://api.datadoghq.com')
      .get('/api/v1/query')
      .query(true)
      .delay(3_000)
      .reply(200, { status: 'ok', series: [series([[1, 1]])] });
    const started = Date.now();
    expect(await fixed({ timeoutMs: 100 }).query('q')).toEqual({
      kind: 'unreachable',
      message: 'Datadog at https://api.datadoghq.com did not answer within 100 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('does not send a request for a query already cancelled by the caller', async () => {
    const scope = nock('https://api.datadoghq.com').get('/api/v1/query').query(true).reply(200, {});
    expect(await fixed().query('q', { signal: AbortSignal.abort() })).toEqual({
      kind: 'unreachable',
      message: 'Datadog at https://api.datadoghq.com: the query was cancelled before it was answered',
    });
    expect(scope.isDone()).toBe(false);
  });

  it('refuses an answer above the size limit as bad-query', async () => {
    const scope = nock('https://api.datadoghq.com')
      .get('/api/v1/query')
      .query(true)
      .reply(200, `{"status":"ok","series":[],"pad":"${'x'.repeat(MAX_RESPONSE_BYTES)}"}`);
    expect(await fixed().query('q')).toEqual({
      kind: 'bad-query',
      message: `Datadog at https://api.datadoghq.com answered more than ${MAX_RESPONSE_BYTES} bytes: narrow the query to one series`,
    });
    scope.done();
  });

  it('reports a network error as unreachable with its cause', async () => {
    nock('https://api.datadoghq.com')
      .get('/api/v1/query')
      .query(true)
      .replyWithError(netError('ENOTFOUND', 'getaddrinfo ENOTFOUND api.datadoghq.com'));
    expect(await fixed().query('q')).toEqual({
      kind: 'unreachable',
      message: 'Datadog at https://api.datadoghq.com is unreachable: getaddrinfo ENOTFOUND api.datadoghq.com',
    });
  });

  it('refuses an interval that is not positive', async () => {
    expect(await fixed().query('q', interval(-1))).toEqual({
      kind: 'bad-query',
      message: 'datadog provider: intervalMs must be a positive number of milliseconds, got -1',
    });
  });

  it('checks health with the validate endpoint', async () => {
    nock('https://api.datadoghq.com', { reqheaders: { 'DD-API-KEY': 'api-key-1' } })
      .get('/api/v1/validate')
      .reply(200, { valid: true });
    expect(await fixed().health()).toEqual({ ok: true });
    nock('https://api.datadoghq.com')
      .get('/api/v1/validate')
      .reply(403, { errors: ['Forbidden'] });
    const h = await fixed().health();
    expect(h).toEqual({
      ok: false,
      message: expect.stringMatching(/refused the credentials \(HTTP 403/) as unknown,
    });
  });
});

describe('GraphiteProvider', () => {
  const address = 'http://graphite.monitoring';
  const target = 'sumSeries(stats.web.{{target}}.5xx.*)';

  it('renders the target as JSON over the interval with basic auth, and returns the last non-null point', async () => {
    const scope = nock(address, { reqheaders: { authorization: basic('grafana', 'pw') } })
      .get('/render')
      .query({ target, format: 'json', from: '-5min' })
      .reply(200, [
        {
          target,
          datapoints: [
            [1, 100],
            [3.5, 110],
            [null, 120],
          ],
        },
      ]);
    const p = make({ type: 'graphite', address, secret: { username: 'grafana', password: 'pw' } });
    expect(await p.query(`  ${target}\n`, interval(300_000))).toEqual({ kind: 'value', value: 3.5 });
    scope.done();
  });

  it('takes a query starting with target= as render parameters (Flagger’s form)', () => {
    expect(
      renderParams("target=summarize(\n  asPercent(a.*, b.*),\n  '1min', 'avg')\n&from=-10min", 60_000),
    ).toEqual({ target: "summarize( asPercent(a.*, b.*), '1min', 'avg')", from: '-10min', format: 'json' });
    expect(renderParams('target=a.b', 90_000)).toEqual({ target: 'a.b', format: 'json', from: '-90s' });
    expect(renderParams('a.b', 60_000)).toEqual({ target: 'a.b', format: 'json', from: '-1min' });
  });

  const answers: { name: string; status: number; body: string | object; want: MetricResult }[] = [
    {
      name: 'no series',
      status: 200,
      body: [],
      want: { kind: 'no-data', message: 'Graphite returned no series for the target: check the metric path' },
    },
    {
      name: 'only null datapoints',
      status: 200,
      body: [
        {
          target: 'a',
          datapoints: [
            [null, 1],
            [null, 2],
          ],
        },
      ],
      want: {
        kind: 'no-data',
        message: 'Graphite returned only null datapoints for the target in the interval',
      },
    },
    {
      name: 'two series',
      status: 200,
      body: [
        { target: 'a.v1', datapoints: [[1, 1]] },
        { target: 'a.v2', datapoints: [[2, 1]] },
      ],
      want: {
        kind: 'multiple-series',
        count: 2,
        message: 'the target returned 2 series (a.v1, a.v2), not one: combine them, e.g. with sumSeries(...)',
      },
    },
    {
      name: 'a 400 with a text reason',
      status: 400,
      body: 'Invalid function: sumSeriez',
      want: {
        kind: 'bad-query',
        message: `Graphite at ${address} rejected the query (HTTP 400): Invalid function: sumSeriez`,
      },
    },
    {
      name: 'a 401',
      status: 401,
      body: '',
      want: {
        kind: 'unauthorized',
        message: `Graphite at ${address} refused the credentials (HTTP 401): it needs credentials: give the secret keys "username" and "password"`,
      },
    },
    {
      name: 'an HTML page',
      status: 200,
      body: '<html><head><title>Graphite Browser</title></head></html>',
      want: {
        kind: 'unreachable',
        message: `Graphite at ${address} answered HTML, not JSON: is the address right?`,
      },
    },
    {
      name: 'a datapoint value that is no number',
      status: 200,
      body: [{ target: 'a', datapoints: [['high', 1]] }],
      want: { kind: 'unreachable', message: `Graphite at ${address} answered a datapoint value "high"` },
    },
    {
      name: 'a 404',
      status: 404,
      body: 'Not Found',
      want: {
        kind: 'unreachable',
        message: `Graphite at ${address} answered 404 Not Found for /render: is the address right?`,
      },
    },
  ];
  it.each(answers)('maps $name', async ({ status, body, want }) => {
    const scope = nock(address).get('/render').query(true).reply(status, body);
    expect(await make({ type: 'graphite', address }).query('a.*')).toEqual(want);
    scope.done();
  });

  it('gives up after timeoutMs on a slow answer', async () => {
    nock(address).get('/render').query(true).delay(3_000).reply(200, []);
    expect(await make({ type: 'graphite', address, timeoutMs: 100 }).query('a')).toEqual({
      kind: 'unreachable',
      message: `Graphite at ${address} did not answer within 100 ms`,
    });
  });

  it('reports a refused connection as unreachable', async () => {
    nock(address)
      .get('/render')
      .query(true)
      .replyWithError(netError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:80'));
    expect(await make({ type: 'graphite', address }).query('a')).toEqual({
      kind: 'unreachable',
      message: `Graphite at ${address} is unreachable: connect ECONNREFUSED 10.0.0.7:80`,
    });
  });
});

describe('InfluxdbProvider', () => {
  const address = 'http://influxdb.monitoring:8086';
  const flux =
    'from(bucket: "web")\n  |> range(start: -1m)\n  |> filter(fn: (r) => r._measurement == "errors")\n  |> mean()';
  const settings: ProviderSettings = { type: 'influxdb', address, secret: { token: 'tok', org: 'acme' } };
  const annotated = [
    '#group,false,false,true,true,false,false',
    '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double,string',
    '#default,_result,,,,,',
    ',result,table,_start,_stop,_value,_measurement',
    ',,0,2024-01-01T00:00:00Z,2024-01-01T00:01:00Z,0.25,errors',
    '',
    '',
  ].join('\r\n');

  it('posts the Flux query with the token, CSV accept header and org, and reads _value', async () => {
    const scope = nock(address, {
      reqheaders: {
        authorization: 'Token tok',
        accept: 'application/csv',
        'content-type': 'application/vnd.flux',
      },
    })
      .post('/api/v2/query', flux)
      .query({ org: 'acme' })
      .reply(200, annotated, { 'content-type': 'text/csv; charset=utf-8' });
    expect(await make(settings).query(flux)).toEqual({ kind: 'value', value: 0.25 });
    scope.done();
  });

  it('takes the org from the address when the secret has none', async () => {
    const scope = nock(address).post('/api/v2/query').query({ org: 'from-address' }).reply(200, annotated);
    const p = make({ type: 'influxdb', address: `${address}/?org=from-address`, secret: { token: 'tok' } });
    expect(await p.query(flux)).toEqual({ kind: 'value', value: 0.25 });
    scope.done();
  });

  const answers: { name: string; status: number; body: string | object; want: MetricResult }[] = [
    {
      name: 'a plain CSV table of several rows (the last row counts)',
      status: 200,
      body: ',result,table,_time,_value\n,_result,0,2024-01-01T00:00:00Z,1\n,_result,0,2024-01-01T00:00:10Z,2\n\n',
      want: { kind: 'value', value: 2 },
    },
    {
      name: 'an empty result',
      status: 200,
      body: '\r\n',
      want: {
        kind: 'no-data',
        message: 'InfluxDB returned no rows for the query: check the bucket, range and filters',
      },
    },
    {
      name: 'two tables',
      status: 200,
      body: ',result,table,_value,version\n,_result,0,1,v1\n,_result,1,2,v2\n',
      want: {
        kind: 'multiple-series',
        count: 2,
        message:
          'the query returned 2 tables, not one: group them into one, e.g. with group() before the aggregate',
      },
    },
    {
      name: 'an error table in the stream',
      status: 200,
      body: '#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,"panic: x, y",897\n',
      want: {
        kind: 'bad-query',
        message: `InfluxDB at ${address} failed the query: panic: x, y (reference 897)`,
      },
    },
    {
      name: 'a string _value',
      status: 200,
      body: ',result,table,_value\n,_result,0,high\n',
      want: { kind: 'bad-query', message: "the query's _value is high, not a number" },
    },
    {
      name: 'a 400 compilation error',
      status: 400,
      body: { code: 'invalid', message: 'compilation failed: error at @1:6-1:7: missing property key' },
      want: {
        kind: 'bad-query',
        message: `InfluxDB at ${address} rejected the query (HTTP 400): compilation failed: error at @1:6-1:7: missing property key`,
      },
    },
    {
      name: 'a 401',
      status: 401,
      body: { code: 'unauthorized', message: 'unauthorized access' },
      want: {
        kind: 'unauthorized',
        message: `InfluxDB at ${address} refused the credentials (HTTP 401: unauthorized access): check the secret key "token" and that it may read the bucket in this org`,
      },
    },
    {
      name: 'an HTML page',
      status: 200,
      body: '<!doctype html><html></html>',
      want: {
        kind: 'unreachable',
        message: `InfluxDB at ${address} answered HTML, not CSV: is the address right?`,
      },
    },
  ];
  it.each(answers)('maps $name', async ({ status, body, want }) => {
    const scope = nock(address).post('/api/v2/query').query(true).reply(status, body);
    expect(await make(settings).query(flux)).toEqual(want);
    scope.done();
  });

  it('gives up after timeoutMs on a slow answer', async () => {
    nock(address).post('/api/v2/query').query(true).delay(3_000).reply(200, annotated);
    expect(await make({ ...settings, timeoutMs: 100 }).query(flux)).toEqual({
      kind: 'unreachable',
      message: `InfluxDB at ${address} did not answer within 100 ms`,
    });
  });

  it('checks health with /health', async () => {
    nock(address).get('/health').reply(200, { name: 'influxdb', status: 'pass' });
    expect(await make(settings).health()).toEqual({ ok: true });
    nock(address).get('/health').reply(503, { name: 'influxdb', status: 'fail', message: 'not ready' });
    expect(await make(settings).health()).toEqual({
      ok: false,
      message: `InfluxDB at ${address} failed with HTTP 503: not ready`,
    });
  });

  it('parses CSV quoting, CRLF, blank lines and #default annotations', () => {
    expect(parseCsv('a,"b,""c""",\r\n\r\n"x\ny",z')).toEqual([['a', 'b,"c"', ''], [], ['x\ny', 'z']]);
    expect(parseFluxCsv(annotated)).toEqual([
      {
        columns: ['', 'result', 'table', '_start', '_stop', '_value', '_measurement'],
        rows: [
          {
            result: '_result',
            table: '0',
            _start: '2024-01-01T00:00:00Z',
            _stop: '2024-01-01T00:01:00Z',
            _value: '0.25',
            _measurement: 'errors',
          },
        ],
      },
    ]);
  });
});

describe('NewRelicProvider', () => {
  const secret = { newrelic_api_key: 'NRAK-abc', newrelic_account_id: '1234567' };
  const nrql =
    "SELECT percentage(count(*), WHERE httpResponseCode >= 500) FROM Transaction WHERE appName = 'web'";
  const results = (rows: object[]) => ({ data: { actor: { account: { nrql: { results: rows } } } } });

  it('posts the NRQL to NerdGraph with the API key and account, and reads the single field', async () => {
    let sent: unknown;
    const scope = nock('https://api.newrelic.com', {
      reqheaders: { 'api-key': 'NRAK-abc', 'content-type': 'application/json', accept: 'application/json' },
    })
      .post('/graphql', (body: unknown) => {
        sent = body;
        return true;
      })
      .reply(200, results([{ 'percentage.count': 1.25 }]));
    expect(await make({ type: 'newrelic', secret }).query(nrql)).toEqual({ kind: 'value', value: 1.25 });
    scope.done();
    expect(sent).toEqual({
      query: expect.stringMatching(
        /^query \(\$accountId: Int!, \$nrql: Nrql!\) \{ actor \{ account\(id: \$accountId\) \{ nrql\(query: \$nrql\) \{ results \} \} \} \}$/,
      ) as unknown,
      variables: { accountId: 1234567, nrql },
    });
  });

  it('posts to the address given, adding /graphql to a bare host', async () => {
    const eu = nock('https://api.eu.newrelic.com')
      .post('/graphql')
      .reply(200, results([{ count: 3 }]));
    const p = make({ type: 'newrelic', address: 'https://api.eu.newrelic.com', secret });
    expect(await p.query('SELECT count(*) FROM Transaction')).toEqual({ kind: 'value', value: 3 });
    eu.done();
    const proxy = nock('http://nr-proxy:8080')
      .post('/nerdgraph/graphql')
      .reply(200, results([{ count: 4 }]));
    const q = make({ type: 'newrelic', address: 'http://nr-proxy:8080/nerdgraph/graphql', secret });
    expect(await q.query('SELECT count(*) FROM Transaction')).toEqual({ kind: 'value', value: 4 });
    proxy.done();
  });

  const answers: { name: string; status: number; body: string | object; want: MetricResult }[] = [
    {
      name: 'a percentile (a one-number object)',
      status: 200,
      body: results([{ 'percentile.duration': { '99': 0.75 } }]),
      want: { kind: 'value', value: 0.75 },
    },
    {
      name: 'a null aggregate',
      status: 200,
      body: results([{ 'average.duration': null }]),
      want: {
        kind: 'no-data',
        message: 'New Relic returned no value for average.duration (no events in the window?)',
      },
    },
    {
      name: 'no results',
      status: 200,
      body: results([]),
      want: { kind: 'no-data', message: 'New Relic returned no results for the NRQL query' },
    },
    {
      name: 'several results (FACET)',
      status: 200,
      body: results([
        { facet: 'v1', count: 1 },
        { facet: 'v2', count: 2 },
      ]),
      want: {
        kind: 'multiple-series',
        count: 2,
        message:
          'the NRQL query returned 2 results, not one: drop FACET and TIMESERIES so that it returns a single row',
      },
    },
    {
      name: 'two numeric fields',
      status: 200,
      body: results([{ count: 1, 'average.duration': 2 }]),
      want: {
        kind: 'bad-query',
        message:
          'the NRQL result has 2 numeric fields (count, average.duration), not one: select a single value',
      },
    },
    {
      name: 'a GraphQL error',
      status: 200,
      body: {
        data: { actor: { account: { nrql: null } } },
        errors: [{ message: "NRQL Syntax Error: Error at line 1 position 8, unexpected 'FORM'" }],
      },
      want: {
        kind: 'bad-query',
        message:
          "New Relic at https://api.newrelic.com/graphql rejected the query: NRQL Syntax Error: Error at line 1 position 8, unexpected 'FORM'",
      },
    },
    {
      name: 'a 401',
      status: 401,
      body: { errors: [{ message: 'Invalid API key' }] },
      want: {
        kind: 'unauthorized',
        message:
          'New Relic at https://api.newrelic.com/graphql refused the credentials (HTTP 401: Invalid API key): ' +
          'check the secret key "newrelic_api_key" (a User key, NRAK-…) and the region of the address',
      },
    },
    {
      name: 'malformed JSON',
      status: 200,
      body: '{"data": {',
      want: {
        kind: 'unreachable',
        message:
          'New Relic at https://api.newrelic.com/graphql answered something that is not JSON: {"data": {',
      },
    },
    {
      name: 'an HTML page',
      status: 200,
      body: '<html><body>Login</body></html>',
      want: {
        kind: 'unreachable',
        message:
          'New Relic at https://api.newrelic.com/graphql answered HTML, not JSON: is the address right?',
      },
    },
    {
      name: 'a 503',
      status: 503,
      body: '',
      want: {
        kind: 'unreachable',
        message: 'New Relic at https://api.newrelic.com/graphql failed with HTTP 503',
      },
    },
  ];
  it.each(answers)('maps $name', async ({ status, body, want }) => {
    const scope = nock('https://api.newrelic.com').post('/graphql').reply(status, body);
    expect(await make({ type: 'newrelic', secret }).query(nrql)).toEqual(want);
    scope.done();
  });

  it('gives up after timeoutMs on a slow answer', async () => {
    nock('https://api.newrelic.com')
      .post('/graphql')
      .delay(3_000)
      .reply(200, results([{ count: 1 }]));
    expect(await make({ type: 'newrelic', secret, timeoutMs: 100 }).query(nrql)).toEqual({
      kind: 'unreachable',
      message: 'New Relic at https://api.newrelic.com/graphql did not answer within 100 ms',
    });
  });

  it('checks health with a user query', async () => {
    nock('https://api.newrelic.com')
      .post('/graphql', { query: '{ actor { user { name } } }' })
      .reply(200, { data: { actor: { user: { name: 'fledge' } } } });
    expect(await make({ type: 'newrelic', secret }).health()).toEqual({ ok: true });
    nock('https://api.newrelic.com')
      .post('/graphql')
      .reply(200, { errors: [{ message: 'Forbidden' }] });
    expect(await make({ type: 'newrelic', secret }).health()).toEqual({
      ok: false,
      message: 'New Relic at https://api.newrelic.com/graphql answered: Forbidden',
    });
  });
});
