// Reading what a webhook call POSTs to the load tester: Flagger's CanaryWebhookPayload, with metadata as text.
import type { Result } from '../types.js';

export interface LoadTesterPayload {
  name: string;
  namespace: string;
  phase: string;
  checksum: string;
  /** Flagger sends map[string]string; numbers and booleans sent by other callers are kept as their text. */
  metadata: Record<string, string>;
}

/** Gates, commands and loads are kept per canary under this key (Flagger's `name.namespace`). */
export const canaryKey = (p: { name: string; namespace: string }): string => `${p.name}.${p.namespace}`;

/** Parses a request body; a missing name or namespace is an error, since gates are kept per canary. */
export function parsePayload(body: string): Result<LoadTesterPayload> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    return { ok: false, message: `the body is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return {
      ok: false,
      message: 'the body must be a JSON object {name, namespace, phase, checksum, metadata}',
    };
  const obj = raw as Record<string, unknown>;
  const text = (k: string): string => {
    const v = obj[k];
    return typeof v === 'string' ? v : '';
  };
  const name = text('name');
  const namespace = text('namespace');
  if (name === '' || namespace === '')
    return { ok: false, message: 'name and namespace of the canary are required' };
  const metadata: Record<string, string> = {};
  const rawMeta = obj['metadata'];
  if (rawMeta !== undefined && rawMeta !== null) {
    if (typeof rawMeta !== 'object' || Array.isArray(rawMeta))
      return { ok: false, message: 'metadata must be an object of strings' };
    for (const [k, v] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof v === 'string') metadata[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') metadata[k] = String(v);
      else return { ok: false, message: `metadata.${k} must be a string` };
    }
  }
  return { ok: true, value: { name, namespace, phase: text('phase'), checksum: text('checksum'), metadata } };
}
