// The part of Docker's `--format` Go templates that listing and inspect use:
// `table` with column headers, `{{.Field}}` and `{{.Field.Sub}}`, `{{json .}}`,
// `{{json .Field}}`, and `json` alone (one JSON object per line). `\t` and `\n`
// in the format are the characters, as the docker CLI reads them.
import { NboxError } from '../errors';
import { table } from './format';

/** Row is one listed object: its template fields, already formatted as Docker prints them. */
export type Row = Record<string, string>;

const ACTION = /\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}/g;

/** renderFormat prints rows through format; headers name a field's table column. */
export function renderFormat(format: string, rows: Row[], headers: Record<string, string>): string {
  if (format.trim() === 'json') return rows.map((row) => JSON.stringify(row)).join('\n');
  const isTable = format.startsWith('table ');
  const body = (isTable ? format.slice('table '.length) : format).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  checkFields(body, rows, headers);
  const render = (row: Row) =>
    body.replace(ACTION, (_all, json: string | undefined, field: string) => {
      const value = field === '' ? row : row[field];
      return json ? JSON.stringify(value) : typeof value === 'string' ? value : JSON.stringify(value);
    });
  if (!isTable) return rows.map(render).join('\n');
  const heading: Row = Object.fromEntries(Object.keys(headers).map((field) => [field, headers[field]]));
  // Cells are split at the tabs the format put between them; tabwriter lays them out.
  const lines = [render(heading), ...rows.map(render)].map((line) => line.split('\t'));
  return table(lines[0], lines.slice(1));
}

/** renderValue prints one object (an inspect result) through format, its values as Go's fmt prints them. */
export function renderValue(format: string, value: unknown): string {
  const body = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  checkActions(body);
  return body.replace(ACTION, (_all, json: string | undefined, path: string) => {
    let at: unknown = value;
    for (const field of path.split('.').filter(Boolean)) {
      if (at === null || typeof at !== 'object' || !(field in at)) {
        throw new NboxError('ERR_NBOX_USAGE', `template parsing error: template: :1:2: executing "" at <.${path}>: can't evaluate field ${field}`);
      }
      at = (at as Record<string, unknown>)[field];
    }
    return json ? JSON.stringify(at) : goPrint(at);
  });
}

// goPrint is fmt's %v: maps as map[k:v] with sorted keys, slices as [a b], nil as <nil>.
function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (typeof value === 'object') {
    return `map[${Object.keys(value).sort().map((key) => `${key}:${goPrint((value as Record<string, unknown>)[key])}`).join(' ')}]`;
  }
  return String(value);
}

function checkActions(body: string): void {
  const unsupported = body.replace(ACTION, '').match(/\{\{.*?\}\}/);
  if (unsupported) throw new NboxError('ERR_NBOX_USAGE', `template: unsupported action ${unsupported[0]} (nbox supports {{.Field}} and {{json .}})`);
}

function checkFields(body: string, rows: Row[], headers: Record<string, string>): void {
  const known = new Set([...Object.keys(headers), ...Object.keys(rows[0] ?? {})]);
  for (const [, , field] of body.matchAll(ACTION)) {
    if (field !== '' && !known.has(field)) {
      throw new NboxError('ERR_NBOX_USAGE', `template parsing error: template: :1:2: executing "" at <.${field}>: can't evaluate field ${field}`);
    }
  }
  checkActions(body);
}
