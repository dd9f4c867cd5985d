// The table printer of a custom resource: a Name column, then the served version's
// additionalPrinterColumns evaluated by JSONPath (or a default Age column when it declares none).
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';
import { CREATION_TIMESTAMP_DESCRIPTION, NAME_DESCRIPTION, type ColumnDefinition } from './columns.js';
import { humanDuration, parseRfc3339Ms } from './duration.js';
import { evaluateJsonPath, goText, parseJsonPath, type ParsedPath } from './jsonpath.js';
import type { Printer } from './printer.js';

interface CustomColumn {
  definition: ColumnDefinition;
  path: ParsedPath;
}

/** The column kube serves for a CRD version without additionalPrinterColumns. */
const DEFAULT_CUSTOM_COLUMNS: JsonObject[] = [
  {
    name: 'Age',
    type: 'date',
    description: CREATION_TIMESTAMP_DESCRIPTION,
    jsonPath: '.metadata.creationTimestamp',
  },
];

const GO_ZERO_TIME_MS = parseRfc3339Ms('0001-01-01T00:00:00Z');

/**
 * A printer for a custom resource from its CRD version's additionalPrinterColumns (undefined or
 * empty: the default Age column). Cells of values the path does not find are null.
 */
export function customResourcePrinter(printerColumns: JsonObject[] | undefined): Printer {
  const specs = printerColumns && printerColumns.length > 0 ? printerColumns : DEFAULT_CUSTOM_COLUMNS;
  const custom: CustomColumn[] = specs.map((c) => {
    const jsonPath = typeof c.jsonPath === 'string' ? c.jsonPath : '';
    const description =
      typeof c.description === 'string' && c.description !== ''
        ? c.description
        : `Custom resource definition column (in JSONPath format): ${jsonPath}`;
    return {
      definition: {
        name: typeof c.name === 'string' ? c.name : '',
        type: typeof c.type === 'string' ? c.type : '',
        format: typeof c.format === 'string' ? c.format : '',
        description,
        priority: typeof c.priority === 'number' ? c.priority : 0,
      },
      path: parseJsonPath(jsonPath),
    };
  });
  const columns: ColumnDefinition[] = [
    { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
    ...custom.map((c) => c.definition),
  ];
  return {
    columns,
    emptyRows: [],
    print: (object, nowMs) => {
      const metadata = isObject(object.metadata) ? object.metadata : {};
      const cells: Json[] = [typeof metadata.name === 'string' ? metadata.name : ''];
      for (const c of custom) {
        const found = c.path.ok ? evaluateJsonPath(c.path.steps, object) : [];
        const first = found[0];
        if (first === undefined) cells.push(null);
        else if (c.definition.type === 'string') cells.push(goText(first));
        else cells.push(cellForValue(c.definition.type, first, nowMs));
      }
      return { cells };
    },
  };
}

/** A non-string column's cell: the value when it has the column's JSON type, else null. */
function cellForValue(type: string, value: Json, nowMs: number): Json {
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '' || value === 'null') return '<unknown>';
      const t = parseRfc3339Ms(value);
      if (t === undefined) return '<invalid>';
      if (t === GO_ZERO_TIME_MS) return '<unknown>';
      return humanDuration(nowMs - t);
    }
    default:
      return null;
  }
}
