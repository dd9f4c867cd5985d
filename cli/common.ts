// What the fledge subcommands share: reading integer flags, loading the kubeconfig as kubectl does, and
// waiting for Ctrl-C or SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';

/** An integer flag in [min, max] (the fallback when absent), or a message naming the flag. */
export function intFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min: number; max: number; what: string },
): { ok: true; value: number } | { ok: false; message: string } {
  if (value === undefined) return { ok: true, value: fallback };
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= range.min && n <= range.max) return { ok: true, value: n };
  return { ok: false, message: `--${name} must be ${range.what}, got "${value}"` };
}

export const PORT_RANGE = { min: 0, max: 65535, what: 'a port number' } as const;

/** The kubeconfig at `path`, else $KUBECONFIG / ~/.kube/config / in-cluster; or why it could not be read. */
export function loadKubeconfig(
  path: string | undefined,
): { ok: true; kc: KubeConfig } | { ok: false; message: string } {
  const kc = new KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
    return { ok: true, kc };
  } catch (e) {
    return { ok: false, message: `loading the kubeconfig: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Resolves on the first SIGINT or SIGTERM (and stops listening for them). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
