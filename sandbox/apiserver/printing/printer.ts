// What a table printer is: the columns of one resource and how one object becomes one row.
import type { Json, JsonObject } from '../types.js';
import type { ColumnDefinition } from './columns.js';

/** The cells of one row plus metav1.TableRowCondition entries (only Pods set them). */
export interface PrintedRow {
  cells: Json[];
  conditions?: JsonObject[];
}

export interface Printer {
  columns: readonly ColumnDefinition[];
  /** Pure: the clock is `nowMs`. */
  print(object: JsonObject, nowMs: number): PrintedRow;
  /**
   * `rows` of a list with no items: kube's printers send `[]`, the default table convertor (used
   * for CustomResourceDefinitions) sends `null`.
   */
  emptyRows: [] | null;
}
