// Output helpers that reproduce the Docker CLI's table layout, sizes and ages,
// so `nbox ps`/`nbox images` read like `docker ps`/`docker images`.

// The Docker CLI prints tables through tabwriter.NewWriter(out, 10, 1, 3, ' ', 0):
// every column but the last is padded to max(10, widest cell + 3).
const MIN_CELL_WIDTH = 10;
const CELL_PADDING = 3;

/** table renders rows under headers with Docker's column layout; lines are joined by "\n", with no trailing newline. */
export function table(headers: string[], rows: string[][]): string {
  const lines = [headers, ...rows];
  const columnCount = Math.max(...lines.map((cells) => cells.length));
  const widths: number[] = [];
  for (let column = 0; column < columnCount - 1; column++) {
    const widest = Math.max(...lines.map((cells) => runeCount(cells[column] ?? '')));
    widths.push(Math.max(MIN_CELL_WIDTH, widest + CELL_PADDING));
  }
  return lines
    .map((cells) => {
      const padded = cells.map((cell, column) =>
        column < widths.length ? cell + ' '.repeat(widths[column] - runeCount(cell)) : cell,
      );
      return padded.join('').trimEnd();
    })
    .join('\n');
}

// tabwriter measures cells in runes (code points), not UTF-16 units.
function runeCount(text: string): number {
  return [...text].length;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** humanSize formats a byte count like Docker's units.HumanSizeWithPrecision(size, precision):
 * "1.89MB", "2.05kB", "0B"; the tables use 3 digits, units.HumanSize (prune's totals) 4. */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return formatG(size, precision) + DECIMAL_UNITS[unit];
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** binarySize formats a byte count like Docker's units.BytesSize: 4 digits, binary units ("1.066MiB", "7.668GiB"). */
export function binarySize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < BINARY_UNITS.length - 1) {
    size /= 1024;
    unit++;
  }
  return formatG(size, 4) + BINARY_UNITS[unit];
}

// formatG is Go's fmt "%.*g": `precision` significant digits rounded half-to-even on
// the exact binary value, trailing zeros dropped, and exponent form when the decimal
// exponent is < -4 or >= precision (so 999999 bytes prints "1e+03kB", as in Docker).
function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const sign = value < 0 ? '-' : '';
  // toExponential(99) yields the first 100 significant digits of the exact value,
  // enough to tell a true tie from a value just above or below it.
  const [mantissa, exponentText] = Math.abs(value).toExponential(99).split('e');
  const allDigits = mantissa.replace('.', '');
  let exponent = Number(exponentText);
  let digits = allDigits.slice(0, precision);
  const rest = allDigits.slice(precision);
  const roundUp =
    rest[0] > '5' ||
    (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || Number(digits[digits.length - 1]) % 2 === 1));
  if (roundUp) {
    const incremented = (BigInt(digits) + 1n).toString();
    if (incremented.length > precision) {
      exponent++;
      digits = incremented.slice(0, precision);
    } else {
      digits = incremented;
    }
  }
  if (exponent < -4 || exponent >= precision) {
    const fraction = digits.slice(1).replace(/0+$/, '');
    const exponentDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${fraction ? '.' + fraction : ''}e${exponent < 0 ? '-' : '+'}${exponentDigits}`;
  }
  const integerLength = exponent + 1;
  const plain =
    integerLength <= 0
      ? '0.' + '0'.repeat(-integerLength) + digits
      : digits.length > integerLength
        ? digits.slice(0, integerLength) + '.' + digits.slice(integerLength)
        : digits + '0'.repeat(integerLength - digits.length);
  return sign + (plain.includes('.') ? plain.replace(/\.?0+$/, '') : plain);
}

/** shortId truncates an ID like Docker's stringid.TruncateID: algorithm prefix dropped, 12 characters kept. */
export function shortId(id: string): string {
  const colon = id.indexOf(':');
  return id.slice(colon + 1, colon + 1 + 12);
}

/** ellipsis cuts text to at most maxWidth display columns, ending in "…", like Docker's formatter.Ellipsis. */
export function ellipsis(text: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const runes = [...text];
  // Docker keeps the first rune whole rather than print a lone "…".
  if (maxWidth === 1) return runes[0] ?? '';
  const total = runes.reduce((width, rune) => width + displayWidth(rune), 0);
  if (total <= maxWidth) return text;
  let kept = '';
  let width = 0;
  for (const rune of runes) {
    width += displayWidth(rune);
    if (width > maxWidth - 1) break;
    kept += rune;
  }
  return kept + '…';
}

// East Asian Wide and Fullwidth runes take two terminal columns.
const WIDE_RANGES: Array<[number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function displayWidth(rune: string): number {
  const code = rune.codePointAt(0) ?? 0;
  return WIDE_RANGES.some(([low, high]) => code >= low && code <= high) ? 2 : 1;
}
