// CustomResourceDefinition objects built from zod schemas: the one source of truth for a custom
// resource's TypeScript type, its runtime validation and the YAML committed under crds/.
import YAML from 'yaml';
import type { z } from 'zod';
import { structuralSchema } from './structural.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  /** The whole object's schema is built from these: spec and (optionally) status. */
  spec: z.ZodType;
  status?: z.ZodType;
  statusSubresource?: boolean;
  printerColumns?: PrinterColumn[];
}

export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function renderCrd(def: CrdDefinition): { [key: string]: Json } {
  const names: { [key: string]: Json } = {
    plural: def.plural,
    singular: def.singular,
    kind: def.kind,
    listKind: def.listKind ?? `${def.kind}List`,
  };
  if (def.shortNames?.length) names.shortNames = def.shortNames;
  if (def.categories?.length) names.categories = def.categories;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}` },
    spec: {
      group: def.group,
      names,
      scope: def.scope,
      versions: def.versions.map((v) => {
        const properties: { [key: string]: Json } = {
          spec: structuralSchema(v.spec) as { [key: string]: Json },
        };
        if (v.status) properties.status = structuralSchema(v.status) as { [key: string]: Json };
        const version: { [key: string]: Json } = {
          name: v.name,
          served: v.served,
          storage: v.storage,
          schema: { openAPIV3Schema: { type: 'object', properties, required: ['spec'] } },
        };
        if (v.statusSubresource) version.subresources = { status: {} };
        if (v.printerColumns?.length) version.additionalPrinterColumns = v.printerColumns as unknown as Json;
        return version;
      }),
    },
  };
}

/** The committed YAML of a CRD: a header line, then the object. */
export function crdYaml(def: CrdDefinition): string {
  return `# Generated from crds/schema by \`npm run crds\`; do not edit.\n${YAML.stringify(renderCrd(def), { lineWidth: 0 })}`;
}

export const crdFileName = (def: CrdDefinition): string => `${def.plural}.${def.group}.yaml`;
