// Docker's `--format` and `inspect -f`: Go templates (go-template/) over a
// listing's rows or an inspected object, `table` with column headers, and
// `json` alone (one JSON object per line). `\t` and `\n` in the format are the
// characters, as the docker CLI reads them.
import { NboxError } from '../errors';
import { GoTemplate, type RowMethod } from './go-template/exec';
import { HEADER_FUNCS } from './go-template/funcs';
import { TemplateError } from './go-template/parse';
import { table } from './format';

/** Row is one listed object: its template fields, already formatted as Docker prints them, and its methods. */
export type Row = Record<string, string | RowMethod>;

/** labelMethod is the `{{.Label "key"}}` of Docker's ps, network ls and volume ls rows: a label's value, or "". */
export function labelMethod(labels: Record<string, string>): RowMethod {
  return (name: string) => (Object.hasOwn(labels, name) ? labels[name] : '');
}

/** renderFormat prints rows through format; headers name a field's table column. */
export function renderFormat(format: string, rows: Row[], headers: Record<string, string>): string {
  if (format.trim() === 'json') return rows.map((row) => JSON.stringify(row)).join('\n');
  const isTable = format.startsWith('table ');
  const template = compile((isTable ? format.slice('table '.length) : format).trim());
  // Docker runs the template only on rows; nbox rejects a bad field without rows too.
  if (rows.length === 0) usageErrors(() => template.checkFields(new Set(Object.keys(headers))));
  const lines = rows.map((row) => usageErrors(() => template.execute(row)));
  if (!isTable) return lines.join('\n');
  // The header row is the docker CLI's: the headers as a map, functions giving back
  // their header, and what was printed before an error (`{{.Label "k"}}`) kept.
  let heading: string;
  try {
    heading = template.execute(new Map(Object.entries(headers)), HEADER_FUNCS);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    heading = err.output;
  }
  // Cells are split at the tabs the format put between them; tabwriter lays them out.
  const cells = [heading, ...lines].map((line) => line.split('\t'));
  return table(cells[0], cells.slice(1));
}

/** formatUsesField tells whether a --format names a row's field, as ps asks for sizes only when `.Size` is shown;
 * `json` names none. */
export function formatUsesField(format: string, field: string): boolean {
  if (format.trim() === 'json') return false;
  const isTable = format.startsWith('table ');
  return compile((isTable ? format.slice('table '.length) : format).trim()).usesField(field);
}

/** renderValue prints one object (an inspect result) through format, its values as Go's fmt prints them. */
export function renderValue(format: string, value: unknown): string {
  const template = compile(format);
  return usageErrors(() => template.execute(value));
}

function compile(format: string): GoTemplate {
  return usageErrors(() => new GoTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')));
}

// usageErrors gives a template's error as the docker CLI words it, a usage error (exit 125).
function usageErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof TemplateError) throw new NboxError('ERR_NBOX_USAGE', `template parsing error: ${err.message}`);
    throw err;
  }
}
