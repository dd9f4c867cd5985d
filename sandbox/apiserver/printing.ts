// Server-side printing: meta.k8s.io Table (list, single object, one per watch event) and
// PartialObjectMetadata(List) responses, shaped exactly as kube-apiserver v1.26 sends them.
import { builtinPrinter } from './printing/builtins.js';
import { customResourcePrinter } from './printing/crd.js';
import type { Printer } from './printing/printer.js';
import type { ApiFailure, Json, JsonObject, ResourceType } from './types.js';
import { clone, isObject } from './types.js';

export type MetaVersion = 'v1' | 'v1beta1';

/** What printing needs of the Api (which satisfies it): the clock and a CRD version's printer columns. */
export interface PrintingContext {
  now(): number;
  registry: { printerColumnsOf(t: ResourceType): JsonObject[] | undefined };
}

export interface TableOptions {
  version: MetaVersion;
  /** The includeObject query parameter: 'Metadata' (the default, also for ''), 'Object' or 'None'. */
  includeObject: string;
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
  single: boolean;
  /**
   * False leaves `columnDefinitions` null: kube sends the columns with the first event of a watch
   * only. Defaults to true.
   */
  includeHeaders?: boolean;
}

/** The printer kube uses for a resource type: CRD printer columns for custom resources. */
export function printerFor(t: ResourceType, printerColumns: JsonObject[] | undefined): Printer {
  return t.custom ? customResourcePrinter(printerColumns) : builtinPrinter(t.group, t.resource);
}

/**
 * The 400 kube answers when includeObject is not one of its values (checked before listing), or
 * undefined when the value is acceptable.
 */
export function tableOptionsError(includeObject: string | null | undefined): ApiFailure | undefined {
  if (includeObject === null || includeObject === undefined) return undefined;
  if (['', 'Metadata', 'None', 'Object'].includes(includeObject)) return undefined;
  return {
    code: 400,
    reason: 'BadRequest',
    message: `Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(includeObject)}: must be 'Metadata', 'Object', 'None', or empty`,
  };
}

/** A Table of `items` (one row each) from a printer; pure, with the clock as `nowMs`. */
export function buildTable(
  printer: Printer,
  items: JsonObject[],
  nowMs: number,
  opts: TableOptions,
): JsonObject {
  const metadata: JsonObject = {};
  if (opts.resourceVersion !== '') metadata.resourceVersion = opts.resourceVersion;
  if (!opts.single) {
    if (opts.continueToken) metadata.continue = opts.continueToken;
    if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  }
  const rows: JsonObject[] = items.map((item) => {
    const printed = printer.print(item, nowMs);
    const row: JsonObject = { cells: printed.cells };
    if (printed.conditions && printed.conditions.length > 0) row.conditions = printed.conditions;
    row.object = rowObject(item, opts.version, opts.includeObject);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata,
    columnDefinitions: opts.includeHeaders === false ? null : printer.columns.map((c) => ({ ...c })),
    rows: rows.length === 0 && !opts.single ? printer.emptyRows : rows,
  };
}

function rowObject(item: JsonObject, version: MetaVersion, includeObject: string): Json {
  if (includeObject === 'None') return null;
  if (includeObject === 'Object') return clone(item);
  return renderPartialObject(version, item);
}

/** A Table response for a list (single: false) or a GET of one object (single: true). */
export function renderTable(
  api: PrintingContext,
  t: ResourceType,
  items: JsonObject[],
  opts: TableOptions,
): JsonObject {
  return buildTable(printerFor(t, api.registry.printerColumnsOf(t)), items, api.now(), opts);
}

/**
 * The one-row Table sent as a watch event's object; its resourceVersion is the object's. Pass
 * includeHeaders false for every event after the first of a stream, as kube does.
 */
export function renderTableEvent(
  api: PrintingContext,
  t: ResourceType,
  obj: JsonObject,
  version: MetaVersion,
  includeObject: string,
  includeHeaders = true,
): JsonObject {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
  return renderTable(api, t, [obj], {
    version,
    includeObject,
    resourceVersion,
    single: true,
    includeHeaders,
  });
}

/** PartialObjectMetadataList: each item's full metadata; `items` is null when there are none. */
export function renderPartialList(
  version: MetaVersion,
  items: JsonObject[],
  resourceVersion: string,
  continueToken?: string,
  remainingItemCount?: number,
): JsonObject {
  const metadata: JsonObject = {};
  if (resourceVersion !== '') metadata.resourceVersion = resourceVersion;
  if (continueToken) metadata.continue = continueToken;
  if (remainingItemCount !== undefined) metadata.remainingItemCount = remainingItemCount;
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${version}`,
    metadata,
    items: items.length === 0 ? null : items.map((item) => renderPartialObject(version, item)),
  };
}

/** PartialObjectMetadata: the object's metadata, all of it, under meta.k8s.io's apiVersion. */
export function renderPartialObject(version: MetaVersion, obj: JsonObject): JsonObject {
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: isObject(obj.metadata) ? clone(obj.metadata) : {},
  };
}
