// How Go's fmt prints template values: %v (maps as map[k:v] with sorted keys,
// slices as [a b], nil as <nil>), Sprint, Sprintln and Sprintf's common verbs.

/** NO_VALUE is Go's invalid value: a missing map key, printed as <no value>. */
export const NO_VALUE = Symbol('no value');

/** goPrint is fmt's %v. */
export function goPrint(value: unknown): string {
  if (value === NO_VALUE) return '<no value>';
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (value instanceof Map || typeof value === 'object') {
    return `map[${sortedEntries(value).map(([key, item]) => `${key}:${goPrint(item)}`).join(' ')}]`;
  }
  return String(value);
}

/** sortedEntries is a map's or an object's entries in Go's order for maps: by key. */
export function sortedEntries(value: object): [string, unknown][] {
  const entries = value instanceof Map ? [...(value as Map<string, unknown>).entries()] : Object.entries(value);
  return entries.filter(([, item]) => typeof item !== 'function').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** goType names a value's type as Go's %T would for the value decoded from JSON. */
export function goType(value: unknown): string {
  if (value === null || value === undefined || value === NO_VALUE) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (Array.isArray(value)) return '[]interface {}';
  if (typeof value === 'function') return 'func';
  return 'map[string]interface {}';
}

/** sprint is fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  return args.map((arg, i) => (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + goPrint(arg)).join('');
}

/** sprintln is fmt.Sprintln: spaces between all operands and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map(goPrint).join(' ')}\n`;
}

/** sprintf is fmt.Sprintf for the verbs templates use: v s q d x X o b c t f e g T and %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let next = 0;
  const spec = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([\s\S]?)/y;
  for (let at = 0; at < format.length;) {
    const percent = format.indexOf('%', at);
    if (percent === -1) {
      out += format.slice(at);
      break;
    }
    out += format.slice(at, percent);
    spec.lastIndex = percent;
    const [whole, flags, widthSpec, precisionSpec, verb] = spec.exec(format) as RegExpExecArray;
    at = percent + whole.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const star = (given: string | undefined) => (given === '*' ? Number(args[next++]) : given === undefined ? undefined : Number(given));
    const width = star(widthSpec);
    const precision = whole.includes('.') ? (star(precisionSpec) ?? 0) : undefined;
    if (verb === '') out += '%!(NOVERB)';
    else if (next >= args.length) out += `%!${verb}(MISSING)`;
    else out += pad(formatOne(verb, flags, precision, args[next++]), width, flags, verb);
  }
  if (next < args.length) out += `%!(EXTRA ${args.slice(next).map((arg) => `${goType(arg)}=${goPrint(arg)}`).join(', ')})`;
  return out;
}

function formatOne(verb: string, flags: string, precision: number | undefined, arg: unknown): string {
  const bad = () => `%!${verb}(${arg === null || arg === undefined || arg === NO_VALUE ? '<nil>' : `${goType(arg)}=${goPrint(arg)}`})`;
  const sign = (n: number, text: string) => (n >= 0 && flags.includes('+') ? `+${text}` : n >= 0 && flags.includes(' ') ? ` ${text}` : text);
  switch (verb) {
    case 'v': return goPrint(arg);
    case 'T': return goType(arg);
    case 's':
      if (typeof arg === 'string') return precision === undefined ? arg : [...arg].slice(0, precision).join('');
      return typeof arg === 'object' && arg !== null ? goPrint(arg) : bad();
    case 'q':
      if (typeof arg === 'string') return JSON.stringify(arg);
      return Number.isInteger(arg) ? `'${String.fromCodePoint(arg as number)}'` : bad();
    case 't': return typeof arg === 'boolean' ? String(arg) : bad();
    case 'c': return Number.isInteger(arg) ? String.fromCodePoint(arg as number) : bad();
    case 'd': case 'x': case 'X': case 'o': case 'b': {
      if (typeof arg === 'string' && (verb === 'x' || verb === 'X')) {
        const hex = Buffer.from(arg).toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      if (!Number.isInteger(arg)) return bad();
      const n = arg as number;
      const digits = Math.abs(n).toString({ d: 10, x: 16, X: 16, o: 8, b: 2 }[verb]);
      return sign(n, `${n < 0 ? '-' : ''}${verb === 'X' ? digits.toUpperCase() : digits}`);
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      if (typeof arg !== 'number') return bad();
      const text = verb === 'f' || verb === 'F' ? arg.toFixed(precision ?? 6)
        : verb === 'e' || verb === 'E' ? goExponent(arg.toExponential(precision ?? 6))
          : formatG(arg, precision);
      return sign(arg, verb === 'E' || verb === 'G' ? text.toUpperCase() : text);
    }
    default: return bad();
  }
}

// formatG is strconv's 'g': %e when the exponent is below -4 or at least the precision (6 when shortest).
function formatG(n: number, precision: number | undefined): string {
  const exponent = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  const limit = precision ?? 6;
  if (exponent < -4 || exponent >= (precision === 0 ? 1 : limit)) {
    return goExponent(precision === undefined ? n.toExponential() : n.toExponential(Math.max(precision - 1, 0)).replace(/\.?0+e/, 'e'));
  }
  return precision === undefined ? String(n) : String(Number(n.toPrecision(Math.max(precision, 1))));
}

// goExponent writes JavaScript's 1e+6 as Go's 1e+06.
function goExponent(text: string): string {
  return text.replace(/e([-+])(\d)$/, 'e$10$2');
}

function pad(text: string, width: number | undefined, flags: string, verb: string): string {
  const length = [...text].length;
  if (width === undefined || length >= width) return text;
  if (flags.includes('-')) return text + ' '.repeat(width - length);
  if (flags.includes('0') && /[dxXobfFeEgG]/.test(verb) && /^[-+ ]?[\da-fA-F.]/.test(text)) {
    const signed = /^[-+ ]/.test(text);
    return (signed ? text[0] : '') + '0'.repeat(width - length) + (signed ? text.slice(1) : text);
  }
  return ' '.repeat(width - length) + text;
}
