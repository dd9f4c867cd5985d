// Node identity of an xDS stream: node.id and node.metadata (namespace, labels, kind) read from the
// decoded envoy.config.core.v3.Node, with the offending field named when the metadata is malformed.
import type { NodeGroup } from '../cache.js';
import { NODE_GROUPS } from '../cache.js';

export interface NodeIdentity {
  id: string;
  /** node.metadata.namespace; '' when not given. */
  namespace: string;
  /** node.metadata.labels (string values only). */
  labels: Readonly<Record<string, string>>;
  /**
   * node.metadata.kind. When absent: 'sidecar' for Envoy (user_agent_name `envoy`), else
   * 'proxyless' (gRPC clients send `grpc-node-js`, `grpc-java`, …).
   */
  kind: NodeGroup;
}

export type NodeResult = { ok: true; node: NodeIdentity } | { ok: false; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `fields` of a decoded google.protobuf.Struct; undefined when `v` is not one. */
const structFields = (v: unknown): Obj | undefined =>
  isObj(v) ? (isObj(v['fields']) ? v['fields'] : v['fields'] === undefined ? {} : undefined) : undefined;

const VALUE_KINDS = [
  'string_value',
  'number_value',
  'bool_value',
  'struct_value',
  'list_value',
  'null_value',
];
/** `stringValue` → `string_value`: protobufjs's built-in struct.proto keeps camelCase even with keepCase. */
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A decoded google.protobuf.Value (proto-loader with `oneofs: true`): its kind in snake case
 * (`string_value`, …) and its value; either field-name spelling is accepted.
 */
function valueOf(v: unknown): { kind: string; value: unknown } {
  if (!isObj(v)) return { kind: 'invalid', value: undefined };
  if (typeof v['kind'] === 'string') return { kind: snake(v['kind']), value: v[v['kind']] };
  for (const [k, value] of Object.entries(v))
    if (VALUE_KINDS.includes(snake(k)) && value !== undefined && value !== null)
      return { kind: snake(k), value };
  return { kind: 'null_value', value: null };
}

/** Reads and checks the node of a stream's first request. */
export function parseNode(node: unknown): NodeResult {
  if (!isObj(node)) return { ok: false, message: 'node: required on the first request of a stream' };
  const id = node['id'];
  if (typeof id !== 'string' || id === '') return { ok: false, message: 'node.id: required' };
  let fields: Obj = {};
  if (node['metadata'] !== undefined && node['metadata'] !== null) {
    const f = structFields(node['metadata']);
    if (f === undefined) return { ok: false, message: 'node.metadata: not a Struct' };
    fields = f;
  }
  let namespace = '';
  if (fields['namespace'] !== undefined) {
    const v = valueOf(fields['namespace']);
    if (v.kind !== 'string_value' || typeof v.value !== 'string')
      return { ok: false, message: 'node.metadata.namespace: must be a string' };
    namespace = v.value;
  }
  const labels: Record<string, string> = {};
  if (fields['labels'] !== undefined) {
    const v = valueOf(fields['labels']);
    const lf = v.kind === 'struct_value' ? structFields(v.value) : undefined;
    if (lf === undefined) return { ok: false, message: 'node.metadata.labels: must be a map of strings' };
    for (const [k, lv] of Object.entries(lf)) {
      const s = valueOf(lv);
      if (s.kind !== 'string_value' || typeof s.value !== 'string')
        return { ok: false, message: `node.metadata.labels.${k}: must be a string` };
      labels[k] = s.value;
    }
  }
  let kind: NodeGroup;
  if (fields['kind'] !== undefined) {
    const v = valueOf(fields['kind']);
    const k = NODE_GROUPS.find((g) => g === v.value);
    if (v.kind !== 'string_value' || k === undefined)
      return { ok: false, message: `node.metadata.kind: must be one of ${NODE_GROUPS.join(', ')}` };
    kind = k;
  } else kind = node['user_agent_name'] === 'envoy' ? 'sidecar' : 'proxyless';
  return { ok: true, node: { id, namespace, labels, kind } };
}
