// Configuration of the sandbox demo app: environment variables and `--flag=value` arguments, validated into
// one DemoAppConfig. Arguments win over the environment; every invalid value is reported, not just the first.
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/** Added latency, drawn uniformly from [minMs, maxMs] per request; `{0, 0}` adds none. */
export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface DemoAppConfig {
  /** Address both servers bind (FLEDGE_POD_IP): each sandbox pod has its own 127.x.y.z. */
  host: string;
  /** Reported in responses (FLEDGE_POD_NAME); defaults to the machine's hostname, as in a real container. */
  podName: string;
  namespace: string;
  /** Port of the container port named `http`; 0 picks a free one (startDemoApp reports it). */
  httpPort: number;
  /** Port of the container port named `grpc`; 0 picks a free one. */
  grpcPort: number;
  /** Reported in responses and as the `version` label of every metric series. */
  version: string;
  /** Fraction 0..1 of `GET /` requests and Echo calls answered with HTTP 500 / gRPC UNAVAILABLE. */
  errorRate: number;
  /** Applies to `GET /` and Echo only. */
  latency: LatencyRange;
  /** false: /readyz answers 503 and the gRPC health service reports NOT_SERVING. */
  ready: boolean;
  /** Process-level (main.ts): exit with code 1 this long after listening. startDemoApp ignores it. */
  exitAfterMs: number | undefined;
  /** Process-level (main.ts): exit with code 1 before listening. startDemoApp ignores it. */
  failStart: boolean;
  /**
   * Process-level (main.ts): after SIGTERM, keep answering this long while reporting not ready (what a preStop
   * sleep gives a real pod), so clients learn the endpoint is going before it stops answering.
   */
  drainMs: number;
}

export type ConfigResult = { ok: true; value: DemoAppConfig } | { ok: false; message: string };

/** Longest LATENCY_MS accepted: longer makes no sense for a demo and would outlive every probe. */
export const MAX_LATENCY_MS = 600_000;
/** setTimeout's limit; EXIT_AFTER_MS above it would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

type SettingKey = keyof DemoAppConfig;

interface Setting {
  env: string;
  flag: string;
  /** A boolean flag may be given bare (`--fail-start` means `--fail-start=true`). */
  boolean: boolean;
}

/** The contract with the sandbox kubelet: one environment variable and one flag per setting. */
export const SETTINGS: Readonly<Record<SettingKey, Setting>> = {
  host: { env: 'FLEDGE_POD_IP', flag: 'pod-ip', boolean: false },
  podName: { env: 'FLEDGE_POD_NAME', flag: 'pod-name', boolean: false },
  namespace: { env: 'FLEDGE_POD_NAMESPACE', flag: 'pod-namespace', boolean: false },
  httpPort: { env: 'FLEDGE_PORT_HTTP', flag: 'port-http', boolean: false },
  grpcPort: { env: 'FLEDGE_PORT_GRPC', flag: 'port-grpc', boolean: false },
  version: { env: 'VERSION', flag: 'version', boolean: false },
  errorRate: { env: 'ERROR_RATE', flag: 'error-rate', boolean: false },
  latency: { env: 'LATENCY_MS', flag: 'latency-ms', boolean: false },
  ready: { env: 'READY', flag: 'ready', boolean: true },
  exitAfterMs: { env: 'EXIT_AFTER_MS', flag: 'exit-after-ms', boolean: false },
  failStart: { env: 'FAIL_START', flag: 'fail-start', boolean: true },
  drainMs: { env: 'DRAIN_MS', flag: 'drain-ms', boolean: false },
};

/** The configuration with nothing set. */
export function defaultDemoAppConfig(): DemoAppConfig {
  return {
    host: '127.0.0.1',
    podName: hostname(),
    namespace: 'default',
    httpPort: 8080,
    grpcPort: 9090,
    version: 'dev',
    errorRate: 0,
    latency: { minMs: 0, maxMs: 0 },
    ready: true,
    exitAfterMs: undefined,
    failStart: false,
    drainMs: 0,
  };
}

const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const INTEGER = /^\d+$/;

function parseDecimal(s: string, max: number): number | undefined {
  const t = s.trim();
  if (!DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return n <= max ? n : undefined;
}

function parseInteger(s: string, max: number): number | undefined {
  const t = s.trim();
  if (!INTEGER.test(t)) return undefined;
  const n = Number(t);
  return n <= max ? n : undefined;
}

function parseBoolean(s: string): boolean | undefined {
  const t = s.trim().toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return undefined;
}

/** `50` (fixed) or `50-150` (uniform range, min <= max), in milliseconds. */
export function parseLatency(s: string): LatencyRange | undefined {
  const parts = s.split('-');
  if (parts.length > 2) return undefined;
  const [a, b = a] = parts;
  if (a === undefined || b === undefined) return undefined;
  const minMs = parseDecimal(a, MAX_LATENCY_MS);
  const maxMs = parseDecimal(b, MAX_LATENCY_MS);
  if (minMs === undefined || maxMs === undefined || minMs > maxMs) return undefined;
  return { minMs, maxMs };
}

/** The latency to add for one request; `random` returns a number in [0, 1). */
export function pickLatencyMs(range: LatencyRange, random: () => number = Math.random): number {
  return range.minMs + (range.maxMs - range.minMs) * random();
}

/** A raw value and the name it was given under (`ERROR_RATE` or `--error-rate`), for error messages. */
interface RawValue {
  name: string;
  value: string;
}

const FLAG_TO_KEY = new Map(Object.entries(SETTINGS).map(([key, s]) => [s.flag, key as SettingKey]));

/** Collects the raw values: environment first (empty means unset), then arguments on top. */
function collectRaw(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
  errors: string[],
): Map<SettingKey, RawValue> {
  const raw = new Map<SettingKey, RawValue>();
  for (const [key, s] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    const v = env[s.env];
    if (v !== undefined && v !== '') raw.set(key, { name: s.env, value: v });
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      errors.push(`unexpected argument ${JSON.stringify(arg)} (settings are given as --name=value)`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const key = FLAG_TO_KEY.get(flag);
    if (key === undefined) {
      const known = [...FLAG_TO_KEY.keys()].map((f) => `--${f}`).join(', ');
      errors.push(`unknown argument ${JSON.stringify(arg)}; known: ${known}`);
      continue;
    }
    const name = `--${flag}`;
    if (eq !== -1) {
      raw.set(key, { name, value: arg.slice(eq + 1) });
    } else if (SETTINGS[key].boolean) {
      raw.set(key, { name, value: 'true' });
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        errors.push(`${name} needs a value`);
        continue;
      }
      raw.set(key, { name, value: next });
      i++;
    }
  }
  return raw;
}

/**
 * The demo app's configuration from `env` (typically process.env) and `argv` (the arguments after the
 * script). Invalid values are all reported in `message`, one per line, each naming the variable or flag.
 */
export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): ConfigResult {
  const errors: string[] = [];
  const raw = collectRaw(env, argv, errors);
  const defaults = defaultDemoAppConfig();

  function field<K extends SettingKey>(
    key: K,
    parse: (s: string) => DemoAppConfig[K] | undefined,
    expectation: string,
  ): DemoAppConfig[K] {
    const r = raw.get(key);
    if (r === undefined) return defaults[key];
    const v = parse(r.value);
    if (v === undefined) {
      errors.push(`${r.name} must be ${expectation}, got ${JSON.stringify(r.value)}`);
      return defaults[key];
    }
    return v;
  }

  const nonEmpty = (s: string): string | undefined => (s.trim() === '' ? undefined : s.trim());
  const port = (s: string): number | undefined => parseInteger(s, 65_535);
  const value: DemoAppConfig = {
    host: field('host', (s) => (isIP(s.trim()) === 0 ? undefined : s.trim()), 'an IPv4 or IPv6 address'),
    podName: field('podName', nonEmpty, 'a non-empty string'),
    namespace: field('namespace', nonEmpty, 'a non-empty string'),
    httpPort: field('httpPort', port, 'a port number between 0 and 65535'),
    grpcPort: field('grpcPort', port, 'a port number between 0 and 65535'),
    version: field('version', nonEmpty, 'a non-empty string'),
    errorRate: field('errorRate', (s) => parseDecimal(s, 1), 'a number between 0 and 1'),
    latency: field(
      'latency',
      parseLatency,
      `a number of milliseconds or a range like "50-150" (min <= max, at most ${MAX_LATENCY_MS})`,
    ),
    ready: field('ready', parseBoolean, '"true" or "false"'),
    exitAfterMs: field(
      'exitAfterMs',
      (s) => parseInteger(s, MAX_TIMER_MS),
      `a whole number of milliseconds (at most ${MAX_TIMER_MS})`,
    ),
    failStart: field('failStart', parseBoolean, '"true" or "false"'),
    drainMs: field(
      'drainMs',
      (s) => parseInteger(s, 60_000),
      'a whole number of milliseconds (at most 60000)',
    ),
  };
  return errors.length > 0 ? { ok: false, message: errors.join('\n') } : { ok: true, value };
}
