// The pod-template-hash the way kube-controller-manager v1.26 computes it: FNV-32a over the Go-syntax
// rendering (go-spew "%#v") of the v1.PodTemplateSpec, printed in decimal, mapped to a safe alphabet.
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';
import { canonicalJson } from './objects.js';

/**
 * A Go type as the renderer needs it: its printed name and how its values print. Fields of a struct
 * are [Go field name, JSON name, type]; embedded structs use the type name and an empty JSON name
 * (their fields sit inline in the JSON object).
 */
type GoType =
  | { k: 'string' | 'int' | 'bool' | 'time'; t: string }
  | { k: 'ptr' | 'slice'; t: string; elem?: GoType }
  | { k: 'map'; t: string }
  | { k: 'struct'; t: string; fields: () => Field[] };
type Field = [goName: string, jsonName: string, type: GoType];

const str = (t = 'string'): GoType => ({ k: 'string', t });
const i32: GoType = { k: 'int', t: 'int32' };
const i64: GoType = { k: 'int', t: 'int64' };
const bool: GoType = { k: 'bool', t: 'bool' };
const time: GoType = { k: 'time', t: 'v1.Time' };
const ptr = (elem: GoType | undefined, t = elem ? `*${elem.t}` : '*?'): GoType => ({
  k: 'ptr',
  t,
  ...(elem ? { elem } : {}),
});
const slice = (t: string, elem?: GoType): GoType => ({ k: 'slice', t, ...(elem ? { elem } : {}) });
const map = (t: string): GoType => ({ k: 'map', t });
const struct = (t: string, fields: () => Field[]): GoType => ({ k: 'struct', t, fields });
/** A pointer to a type whose fields are not modelled: nil renders exactly, anything else cannot. */
const opaquePtr = (t: string): GoType => ({ k: 'ptr', t });
const STRING_MAP = 'map[string]string';

const localObjectReference = struct('v1.LocalObjectReference', () => [['Name', 'name', str()]]);
const intOrString: GoType = { k: 'int', t: 'intstr.IntOrString' };

const objectMeta = struct('v1.ObjectMeta', () => [
  ['Name', 'name', str()],
  ['GenerateName', 'generateName', str()],
  ['Namespace', 'namespace', str()],
  ['SelfLink', 'selfLink', str()],
  ['UID', 'uid', str('types.UID')],
  ['ResourceVersion', 'resourceVersion', str()],
  ['Generation', 'generation', i64],
  ['CreationTimestamp', 'creationTimestamp', time],
  ['DeletionTimestamp', 'deletionTimestamp', ptr(time)],
  ['DeletionGracePeriodSeconds', 'deletionGracePeriodSeconds', ptr(i64)],
  ['Labels', 'labels', map(STRING_MAP)],
  ['Annotations', 'annotations', map(STRING_MAP)],
  ['OwnerReferences', 'ownerReferences', slice('[]v1.OwnerReference')],
  ['Finalizers', 'finalizers', slice('[]string', str())],
  ['ManagedFields', 'managedFields', slice('[]v1.ManagedFieldsEntry')],
]);

const keySelector = (t: string): GoType =>
  struct(t, () => [
    ['LocalObjectReference', '', localObjectReference],
    ['Key', 'key', str()],
    ['Optional', 'optional', ptr(bool)],
  ]);

const envVar = struct('v1.EnvVar', () => [
  ['Name', 'name', str()],
  ['Value', 'value', str()],
  [
    'ValueFrom',
    'valueFrom',
    ptr(
      struct('v1.EnvVarSource', () => [
        [
          'FieldRef',
          'fieldRef',
          ptr(
            struct('v1.ObjectFieldSelector', () => [
              ['APIVersion', 'apiVersion', str()],
              ['FieldPath', 'fieldPath', str()],
            ]),
          ),
        ],
        ['ResourceFieldRef', 'resourceFieldRef', opaquePtr('*v1.ResourceFieldSelector')],
        ['ConfigMapKeyRef', 'configMapKeyRef', ptr(keySelector('v1.ConfigMapKeySelector'))],
        ['SecretKeyRef', 'secretKeyRef', ptr(keySelector('v1.SecretKeySelector'))],
      ]),
    ),
  ],
]);

const envSource = (t: string): GoType =>
  struct(t, () => [
    ['LocalObjectReference', '', localObjectReference],
    ['Optional', 'optional', ptr(bool)],
  ]);

const envFromSource = struct('v1.EnvFromSource', () => [
  ['Prefix', 'prefix', str()],
  ['ConfigMapRef', 'configMapRef', ptr(envSource('v1.ConfigMapEnvSource'))],
  ['SecretRef', 'secretRef', ptr(envSource('v1.SecretEnvSource'))],
]);

const probe = struct('v1.Probe', () => [
  [
    'ProbeHandler',
    '',
    struct('v1.ProbeHandler', () => [
      [
        'Exec',
        'exec',
        ptr(struct('v1.ExecAction', () => [['Command', 'command', slice('[]string', str())]])),
      ],
      [
        'HTTPGet',
        'httpGet',
        ptr(
          struct('v1.HTTPGetAction', () => [
            ['Path', 'path', str()],
            ['Port', 'port', intOrString],
            ['Host', 'host', str()],
            ['Scheme', 'scheme', str('v1.URIScheme')],
            [
              'HTTPHeaders',
              'httpHeaders',
              slice(
                '[]v1.HTTPHeader',
                struct('v1.HTTPHeader', () => [
                  ['Name', 'name', str()],
                  ['Value', 'value', str()],
                ]),
              ),
            ],
          ]),
        ),
      ],
      [
        'TCPSocket',
        'tcpSocket',
        ptr(
          struct('v1.TCPSocketAction', () => [
            ['Port', 'port', intOrString],
            ['Host', 'host', str()],
          ]),
        ),
      ],
      [
        'GRPC',
        'grpc',
        ptr(
          struct('v1.GRPCAction', () => [
            ['Port', 'port', i32],
            ['Service', 'service', ptr(str())],
          ]),
        ),
      ],
    ]),
  ],
  ['InitialDelaySeconds', 'initialDelaySeconds', i32],
  ['TimeoutSeconds', 'timeoutSeconds', i32],
  ['PeriodSeconds', 'periodSeconds', i32],
  ['SuccessThreshold', 'successThreshold', i32],
  ['FailureThreshold', 'failureThreshold', i32],
  ['TerminationGracePeriodSeconds', 'terminationGracePeriodSeconds', ptr(i64)],
]);

const container = struct('v1.Container', () => [
  ['Name', 'name', str()],
  ['Image', 'image', str()],
  ['Command', 'command', slice('[]string', str())],
  ['Args', 'args', slice('[]string', str())],
  ['WorkingDir', 'workingDir', str()],
  [
    'Ports',
    'ports',
    slice(
      '[]v1.ContainerPort',
      struct('v1.ContainerPort', () => [
        ['Name', 'name', str()],
        ['HostPort', 'hostPort', i32],
        ['ContainerPort', 'containerPort', i32],
        ['Protocol', 'protocol', str('v1.Protocol')],
        ['HostIP', 'hostIP', str()],
      ]),
    ),
  ],
  ['EnvFrom', 'envFrom', slice('[]v1.EnvFromSource', envFromSource)],
  ['Env', 'env', slice('[]v1.EnvVar', envVar)],
  [
    'Resources',
    'resources',
    struct('v1.ResourceRequirements', () => [
      ['Limits', 'limits', map('v1.ResourceList')],
      ['Requests', 'requests', map('v1.ResourceList')],
      ['Claims', 'claims', slice('[]v1.ResourceClaim')],
    ]),
  ],
  [
    'VolumeMounts',
    'volumeMounts',
    slice(
      '[]v1.VolumeMount',
      struct('v1.VolumeMount', () => [
        ['Name', 'name', str()],
        ['ReadOnly', 'readOnly', bool],
        ['MountPath', 'mountPath', str()],
        ['SubPath', 'subPath', str()],
        ['MountPropagation', 'mountPropagation', ptr(str('v1.MountPropagationMode'))],
        ['SubPathExpr', 'subPathExpr', str()],
      ]),
    ),
  ],
  ['VolumeDevices', 'volumeDevices', slice('[]v1.VolumeDevice')],
  ['LivenessProbe', 'livenessProbe', ptr(probe)],
  ['ReadinessProbe', 'readinessProbe', ptr(probe)],
  ['StartupProbe', 'startupProbe', ptr(probe)],
  ['Lifecycle', 'lifecycle', opaquePtr('*v1.Lifecycle')],
  ['TerminationMessagePath', 'terminationMessagePath', str()],
  ['TerminationMessagePolicy', 'terminationMessagePolicy', str('v1.TerminationMessagePolicy')],
  ['ImagePullPolicy', 'imagePullPolicy', str('v1.PullPolicy')],
  ['SecurityContext', 'securityContext', opaquePtr('*v1.SecurityContext')],
  ['Stdin', 'stdin', bool],
  ['StdinOnce', 'stdinOnce', bool],
  ['TTY', 'tty', bool],
]);

const podSecurityContext = struct('v1.PodSecurityContext', () => [
  ['SELinuxOptions', 'seLinuxOptions', opaquePtr('*v1.SELinuxOptions')],
  ['WindowsOptions', 'windowsOptions', opaquePtr('*v1.WindowsSecurityContextOptions')],
  ['RunAsUser', 'runAsUser', ptr(i64)],
  ['RunAsGroup', 'runAsGroup', ptr(i64)],
  ['RunAsNonRoot', 'runAsNonRoot', ptr(bool)],
  ['SupplementalGroups', 'supplementalGroups', slice('[]int64', i64)],
  ['FSGroup', 'fsGroup', ptr(i64)],
  ['Sysctls', 'sysctls', slice('[]v1.Sysctl')],
  ['FSGroupChangePolicy', 'fsGroupChangePolicy', ptr(str('v1.PodFSGroupChangePolicy'))],
  ['SeccompProfile', 'seccompProfile', opaquePtr('*v1.SeccompProfile')],
]);

const toleration = struct('v1.Toleration', () => [
  ['Key', 'key', str()],
  ['Operator', 'operator', str('v1.TolerationOperator')],
  ['Value', 'value', str()],
  ['Effect', 'effect', str('v1.TaintEffect')],
  ['TolerationSeconds', 'tolerationSeconds', ptr(i64)],
]);

const podSpec = struct('v1.PodSpec', () => [
  ['Volumes', 'volumes', slice('[]v1.Volume')],
  ['InitContainers', 'initContainers', slice('[]v1.Container', container)],
  ['Containers', 'containers', slice('[]v1.Container', container)],
  ['EphemeralContainers', 'ephemeralContainers', slice('[]v1.EphemeralContainer')],
  ['RestartPolicy', 'restartPolicy', str('v1.RestartPolicy')],
  ['TerminationGracePeriodSeconds', 'terminationGracePeriodSeconds', ptr(i64)],
  ['ActiveDeadlineSeconds', 'activeDeadlineSeconds', ptr(i64)],
  ['DNSPolicy', 'dnsPolicy', str('v1.DNSPolicy')],
  ['NodeSelector', 'nodeSelector', map(STRING_MAP)],
  ['ServiceAccountName', 'serviceAccountName', str()],
  ['DeprecatedServiceAccount', 'serviceAccount', str()],
  ['AutomountServiceAccountToken', 'automountServiceAccountToken', ptr(bool)],
  ['NodeName', 'nodeName', str()],
  ['HostNetwork', 'hostNetwork', bool],
  ['HostPID', 'hostPID', bool],
  ['HostIPC', 'hostIPC', bool],
  ['ShareProcessNamespace', 'shareProcessNamespace', ptr(bool)],
  ['SecurityContext', 'securityContext', ptr(podSecurityContext)],
  ['ImagePullSecrets', 'imagePullSecrets', slice('[]v1.LocalObjectReference', localObjectReference)],
  ['Hostname', 'hostname', str()],
  ['Subdomain', 'subdomain', str()],
  ['Affinity', 'affinity', opaquePtr('*v1.Affinity')],
  ['SchedulerName', 'schedulerName', str()],
  ['Tolerations', 'tolerations', slice('[]v1.Toleration', toleration)],
  ['HostAliases', 'hostAliases', slice('[]v1.HostAlias')],
  ['PriorityClassName', 'priorityClassName', str()],
  ['Priority', 'priority', ptr(i32)],
  ['DNSConfig', 'dnsConfig', opaquePtr('*v1.PodDNSConfig')],
  ['ReadinessGates', 'readinessGates', slice('[]v1.PodReadinessGate')],
  ['RuntimeClassName', 'runtimeClassName', ptr(str())],
  ['EnableServiceLinks', 'enableServiceLinks', ptr(bool)],
  ['PreemptionPolicy', 'preemptionPolicy', ptr(str('v1.PreemptionPolicy'))],
  ['Overhead', 'overhead', map('v1.ResourceList')],
  ['TopologySpreadConstraints', 'topologySpreadConstraints', slice('[]v1.TopologySpreadConstraint')],
  ['SetHostnameAsFQDN', 'setHostnameAsFQDN', ptr(bool)],
  ['OS', 'os', opaquePtr('*v1.PodOS')],
  ['HostUsers', 'hostUsers', ptr(bool)],
  ['SchedulingGates', 'schedulingGates', slice('[]v1.PodSchedulingGate')],
  ['ResourceClaims', 'resourceClaims', slice('[]v1.PodResourceClaim')],
]);

const podTemplateSpec = struct('v1.PodTemplateSpec', () => [
  ['ObjectMeta', 'metadata', objectMeta],
  ['Spec', 'spec', podSpec],
]);

const absent = (v: Json | undefined): v is null | undefined => v === undefined || v === null;

/** A JSON scalar as Go prints it; a value of the wrong JSON type prints as its JSON. */
const scalar = (v: Json): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : canonicalJson(v);

/**
 * Renders `v` as go-spew "%#v" prints a value of Go type `type` decoded from that JSON: types in
 * parentheses (left out inside slices, maps and behind pointers), strings unquoted, empty lists and
 * maps as <nil> (storage drops them). A value the model cannot render exactly is rendered as its
 * canonical JSON, which keeps the hash stable though no longer kube's.
 */
function render(type: GoType, v: Json | undefined, typed: boolean, inline = false): string {
  const pre = typed ? `(${type.t})` : '';
  const opaque = (): string => `${pre}?${canonicalJson(v)}`;
  switch (type.k) {
    case 'string':
      return pre + (absent(v) ? '' : scalar(v));
    case 'bool':
      return pre + (absent(v) ? 'false' : scalar(v));
    case 'int':
      if (type.t === 'intstr.IntOrString') {
        if (typeof v === 'number') return `${pre}{Type:(intstr.Type)0 IntVal:(int32)${v} StrVal:(string)}`;
        return `${pre}{Type:(intstr.Type)1 IntVal:(int32)0 StrVal:(string)${absent(v) ? '' : scalar(v)}}`;
      }
      return pre + (absent(v) ? '0' : scalar(v));
    case 'time':
      if (!absent(v)) return opaque();
      return `${pre}{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}`;
    case 'ptr':
      if (absent(v)) return typed ? `${pre}<nil>` : '<nil>';
      if (!type.elem) return opaque();
      return (typed ? pre : '<*>') + render(type.elem, v, false);
    case 'slice':
      if (!Array.isArray(v) || v.length === 0) return `${pre}<nil>`;
      if (!type.elem) return opaque();
      return `${pre}[${v.map((x) => render(type.elem as GoType, x, false)).join(' ')}]`;
    case 'map': {
      const entries = isObject(v) ? Object.keys(v).sort() : [];
      if (entries.length === 0) return `${pre}<nil>`;
      if (type.t !== STRING_MAP) return opaque();
      const obj = v as JsonObject;
      return `${pre}map[${entries.map((k) => `${k}:${String(obj[k] as string)}`).join(' ')}]`;
    }
    case 'struct': {
      const obj = isObject(v) ? v : {};
      const fields = type.fields();
      const known = new Set<string>();
      const collect = (fs: Field[]): void => {
        for (const [, json, t] of fs) {
          if (json) known.add(json);
          else if (t.k === 'struct') collect(t.fields());
        }
      };
      collect(fields);
      // An embedded struct shares its parent's JSON object; the parent accounts for the keys.
      const extra = inline ? [] : Object.keys(obj).filter((k) => !known.has(k) && !absent(obj[k]));
      const body = fields
        .map(
          ([goName, json, t]) =>
            `${goName}:${json ? render(t, obj[json], true) : render(t, obj, true, true)}`,
        )
        .join(' ');
      const rest =
        extra.length > 0
          ? `?${canonicalJson(Object.fromEntries(extra.map((k) => [k, obj[k] as Json])))}`
          : '';
      return `${pre}{${body}}${rest}`;
    }
  }
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Maps each character onto kube's vowel-free alphabet (what rand.SafeEncodeString does). */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length] ?? 'b';
  return out;
}

/** 32-bit FNV-1a over bytes, continuing from `seed`. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The Go-syntax rendering of a pod template that the hash is taken over (exported for tests). */
export const renderPodTemplate = (template: JsonObject): string => render(podTemplateSpec, template, true);

/**
 * The pod-template-hash of a Deployment's pod template; a collisionCount, when set, is hashed in
 * as 8 little-endian bytes. Equal to kube's for the fields modelled above (the common ones);
 * templates using others still get a stable hash of the same shape.
 */
export function podTemplateHash(template: JsonObject, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(renderPodTemplate(template)));
  if (collisionCount !== undefined) {
    const extra = new Uint8Array(8);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(extra, h);
  }
  return safeEncode(String(h));
}
