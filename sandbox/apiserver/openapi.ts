// A minimal OpenAPI v3 publication (/openapi/v3 and /openapi/v3/<group-version>): enough for
// kubectl to see that every resource supports server-side field validation, and the CRD
// schemas for clients that read them. Built-in types are published with open schemas.
import { createHash } from 'node:crypto';
import type { Registry } from './registry.js';
import type { JsonObject, ResourceType } from './types.js';

const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];

/** "api/v1" or "apis/apps/v1": the OpenAPI v3 path key of a group-version. */
const gvPath = (group: string, version: string): string =>
  group ? `apis/${group}/${version}` : `api/${version}`;

function groupVersions(registry: Registry): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of registry.all())
    seen.set(gvPath(t.group, t.version), { group: t.group, version: t.version });
  return [...seen.values()];
}

function schemaName(t: ResourceType): string {
  const g = t.group ? t.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${t.version}.${t.kind}`;
}

function operation(t: ResourceType, params: string[]): JsonObject {
  return {
    parameters: params.map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })),
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
  };
}

/** The document of one group-version, or undefined when nothing is served there. */
export function openapiDoc(registry: Registry, group: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: JsonObject = {};
  const schemas: JsonObject = {};
  for (const t of types) {
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`;
    paths[base] = { post: { ...operation(t, WRITE_PARAMS), 'x-kubernetes-action': 'post' } };
    paths[`${base}/{name}`] = {
      put: { ...operation(t, WRITE_PARAMS), 'x-kubernetes-action': 'put' },
      patch: operation(t, WRITE_PARAMS),
    };
    const crdSchema = t.custom ? registry.schemaOf(t) : undefined;
    schemas[schemaName(t)] = {
      ...(crdSchema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
      'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }],
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.26.1' },
    paths,
    components: { schemas },
  };
}

/** The index: each group-version's document URL, with a content hash as kube publishes it. */
export function openapiIndex(registry: Registry): JsonObject {
  const paths: JsonObject = {};
  for (const { group, version } of groupVersions(registry)) {
    const doc = openapiDoc(registry, group, version);
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
    paths[gvPath(group, version)] = {
      serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}`,
    };
  }
  return { paths };
}
