// HTTP delivery of one serialized notification with axios. A Sender never rejects: every failure is a
// SendOutcome, and its message has been scrubbed of the provider's secrets.
import axios from 'axios';
import type { AxiosProxyConfig } from 'axios';
import type { Result } from '../types.js';
import type { Sender, SendOutcome } from './queue.js';

export interface HttpEndpoint {
  url: string;
  headers: Record<string, string>;
  /** Undefined: no proxy at all (proxy environment variables are deliberately not used). */
  proxy: AxiosProxyConfig | undefined;
  scrub: (text: string) => string;
}

/** Response bodies quoted in errors are cut to this many characters. */
const MAX_QUOTED_BODY = 200;

/** Parses an AlertProvider's proxy URL; undefined input means no proxy. Errors never echo the URL. */
export function parseProxy(proxy: string | undefined): Result<AxiosProxyConfig | undefined> {
  if (proxy === undefined) return { ok: true, value: undefined };
  let u: URL;
  try {
    // Flagger's examples write the proxy without a scheme (my-http-proxy.com); http is then implied.
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
  } catch {
    return { ok: false, message: 'proxy is not a valid URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return { ok: false, message: 'proxy must be an http or https URL' };
  }
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const config: AxiosProxyConfig = { protocol: u.protocol.slice(0, -1), host: u.hostname, port };
  if (u.username) {
    config.auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  }
  return { ok: true, value: config };
}

/** 408, 429 and 5xx may succeed later; any other non-2xx answer will not. */
const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** POSTs the JSON body to the endpoint; success is any 2xx answer. Honours the signal for cancellation. */
export function createHttpSender(endpoint: HttpEndpoint): Sender {
  const client = axios.create();
  return async (body, signal): Promise<SendOutcome> => {
    try {
      const res = await client.post<string>(endpoint.url, body, {
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'fledge', ...endpoint.headers },
        proxy: endpoint.proxy ?? false,
        signal,
        maxRedirects: 0,
        responseType: 'text',
        transformResponse: (data: unknown) => data,
        validateStatus: () => true,
      });
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      const quoted = typeof res.data === 'string' ? res.data.slice(0, MAX_QUOTED_BODY) : '';
      return {
        ok: false,
        kind: 'http',
        status: res.status,
        retryable: retryableStatus(res.status),
        message: endpoint.scrub(`HTTP ${res.status}${quoted ? `: ${quoted}` : ''}`),
      };
    } catch (e) {
      if (signal.aborted) return { ok: false, kind: 'aborted', retryable: true, message: 'request aborted' };
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, kind: 'network', retryable: true, message: endpoint.scrub(message) };
    }
  };
}
