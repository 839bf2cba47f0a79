// The parser of Go's text/template: items into the parse tree that exec walks,
// with Go's checks (functions defined, variables declared, {{end}}s matched)
// and its messages, `template: :LINE: ...`.
import { lex, type Item, type ItemType } from './lex';

/** TemplateError is a parse or execution error, its message as Go's text/template words it. */
export class TemplateError extends Error {
  /** output is what execution had written before the error (Go's writer keeps it). */
  output = '';
}

export interface ListNode { type: 'list'; pos: number; nodes: Node[] }
export type Node =
  | ListNode
  | { type: 'text'; pos: number; text: string }
  | { type: 'action'; pos: number; pipe: PipeNode }
  | ControlNode
  | { type: 'break' | 'continue'; pos: number };
export interface ControlNode { type: 'if' | 'with' | 'range'; pos: number; pipe: PipeNode; list: ListNode; elseList?: ListNode }

/** PipeNode is `$a, $b := cmd | cmd ...`, or a parenthesised pipeline. */
export interface PipeNode { type: 'pipe'; pos: number; decl: VariableNode[]; isAssign: boolean; cmds: CommandNode[] }
export interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }
export interface FieldNode { type: 'field'; pos: number; idents: string[] }
/** VariableNode is `$x.Field...`: idents[0] is the variable's name. */
export interface VariableNode { type: 'variable'; pos: number; idents: string[] }
/** ChainNode is fields taken from another term: `(index .X 0).Field`. */
export interface ChainNode { type: 'chain'; pos: number; node: ArgNode; fields: string[] }
export type ArgNode =
  | FieldNode | VariableNode | ChainNode | PipeNode
  | { type: 'dot' | 'nil'; pos: number }
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number' | 'string'; pos: number; value: number | string; text: string };

type Ended = { kind: 'end' | 'else'; pos: number };

/** parse builds the tree of source; funcs are the function names it may call. */
export function parse(source: string, funcs: ReadonlySet<string>): ListNode {
  return new Parser(lex(source), funcs).template();
}

/** nodeString is a node as Go's String() prints it, for `at <...>` in errors. */
export function nodeString(node: ArgNode | CommandNode): string {
  switch (node.type) {
    case 'field': return `.${node.idents.join('.')}`;
    case 'variable': return node.idents.join('.');
    case 'chain': return `${node.node.type === 'pipe' ? `(${nodeString(node.node)})` : nodeString(node.node)}.${node.fields.join('.')}`;
    case 'pipe': {
      const decl = node.decl.length ? `${node.decl.map(nodeString).join(', ')} ${node.isAssign ? '=' : ':='} ` : '';
      return decl + node.cmds.map(nodeString).join(' | ');
    }
    case 'command': return node.args.map((arg) => (arg.type === 'pipe' ? `(${nodeString(arg)})` : nodeString(arg))).join(' ');
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'identifier': return node.name;
    case 'bool': return String(node.value);
    case 'number': case 'string': return node.text;
  }
}

class Parser {
  private at = 0;
  private line = 1;
  private vars = ['$'];
  private rangeDepth = 0;

  constructor(private readonly items: Item[], private readonly funcs: ReadonlySet<string>) {}

  template(): ListNode {
    const list: ListNode = { type: 'list', pos: 0, nodes: [] };
    while (this.peek().type !== 'eof') {
      const node = this.textOrAction();
      if ('kind' in node) this.fail(`unexpected {{${node.kind}}}`);
      list.nodes.push(node);
    }
    return list;
  }

  private next(): Item {
    const item = this.items[Math.min(this.at++, this.items.length - 1)];
    this.line = item.line;
    return item;
  }

  private peek(): Item {
    return this.items[Math.min(this.at, this.items.length - 1)];
  }

  private nextNonSpace(): Item {
    let item = this.next();
    while (item.type === 'space') item = this.next();
    return item;
  }

  private peekNonSpace(): Item {
    const item = this.nextNonSpace();
    this.at--;
    return item;
  }

  private fail(message: string): never {
    throw new TemplateError(`template: :${this.line}: ${message}`);
  }

  private unexpected(item: Item, context: string): never {
    if (item.type === 'error') this.fail(item.value);
    this.fail(`unexpected ${describeItem(item)} in ${context}`);
  }

  private expect(type: ItemType, context: string): Item {
    const item = this.nextNonSpace();
    if (item.type !== type) this.unexpected(item, context);
    return item;
  }

  private textOrAction(): Node | Ended {
    const item = this.nextNonSpace();
    if (item.type === 'text') return { type: 'text', pos: item.pos, text: item.value };
    if (item.type === 'leftDelim') return this.action();
    this.unexpected(item, 'input');
  }

  // itemList reads nodes up to the {{end}} or {{else}} that closes a control.
  private itemList(): { list: ListNode; ended: Ended } {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const node = this.textOrAction();
      if ('kind' in node) return { list, ended: node };
      list.nodes.push(node);
    }
    this.fail('unexpected EOF');
  }

  private action(): Node | Ended {
    const item = this.nextNonSpace();
    if (item.type === 'keyword') {
      switch (item.value) {
        case 'end':
          return { kind: 'end', pos: this.expect('rightDelim', 'end').pos };
        case 'else': {
          const following = this.peekNonSpace();
          if (following.type === 'keyword' && (following.value === 'if' || following.value === 'with')) return { kind: 'else', pos: item.pos };
          return { kind: 'else', pos: this.expect('rightDelim', 'else').pos };
        }
        case 'if': case 'with': case 'range':
          return this.control(item.value);
        case 'break': case 'continue': {
          const next = this.nextNonSpace();
          if (next.type !== 'rightDelim') this.unexpected(next, `{{${item.value}}}`);
          if (this.rangeDepth === 0) this.fail(`{{${item.value}}} outside {{range}}`);
          return { type: item.value, pos: item.pos };
        }
        default:
          this.fail(`{{${item.value}}} is not supported: there are no named templates`);
      }
    }
    this.at--;
    const pos = this.peek().pos;
    return { type: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(context: 'if' | 'with' | 'range'): ControlNode {
    const scope = this.vars.length;
    const pipe = this.pipeline(context, 'rightDelim');
    if (context === 'range') this.rangeDepth++;
    const { list, ended } = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (ended.kind === 'else') {
      const following = this.peek();
      if (context !== 'range' && following.type === 'keyword' && following.value === context) {
        // {{else if ...}} is {{else}}{{if ...}}{{end}} sharing the outer {{end}}.
        this.next();
        elseList = { type: 'list', pos: ended.pos, nodes: [this.control(context)] };
      } else {
        const rest = this.itemList();
        if (rest.ended.kind !== 'end') this.fail('expected end; found {{else}}');
        elseList = rest.list;
      }
    }
    this.vars.length = scope;
    return { type: context, pos: pipe.pos, pipe, list, elseList };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const pipe: PipeNode = { type: 'pipe', pos: this.peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const variable = this.peekNonSpace();
      if (variable.type !== 'variable') break;
      const mark = this.at;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === 'declare' || next.type === 'assign') {
        this.nextNonSpace();
        pipe.isAssign = next.type === 'assign';
        pipe.decl.push({ type: 'variable', pos: variable.pos, idents: [variable.value] });
        this.vars.push(variable.value);
        break;
      }
      if (next.type === 'char' && next.value === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: variable.pos, idents: [variable.value] });
        this.vars.push(variable.value);
        if (context === 'range' && pipe.decl.length < 2 && this.peekNonSpace().type === 'variable') continue;
        this.fail(context === 'range' ? 'range can only initialize variables' : `too many declarations in ${context}`);
      }
      this.at = mark;
      break;
    }
    for (;;) {
      const item = this.nextNonSpace();
      if (item.type === end) {
        if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((cmd, i) => {
          if (['bool', 'dot', 'nil', 'number', 'string'].includes(cmd.args[0].type)) this.fail(`non executable command in pipeline stage ${i + 2}`);
        });
        return pipe;
      }
      if (!['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'].includes(item.type)) {
        this.unexpected(item, context);
      }
      this.at--;
      pipe.cmds.push(this.command());
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const item = this.next();
      if (item.type === 'space') continue;
      if (item.type === 'rightDelim' || item.type === 'rightParen') this.at--;
      else if (item.type !== 'pipe') this.unexpected(item, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1));
    switch (node.type) {
      case 'field': case 'variable': return { type: node.type, pos, idents: [...node.idents, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.fail(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
      default: return { type: 'chain', pos, node, fields };
    }
  }

  private term(): ArgNode | undefined {
    const item = this.nextNonSpace();
    switch (item.type) {
      case 'identifier':
        if (!this.funcs.has(item.value)) this.fail(`function ${JSON.stringify(item.value)} not defined`);
        return { type: 'identifier', pos: item.pos, name: item.value };
      case 'dot': case 'nil':
        return { type: item.type, pos: item.pos };
      case 'variable':
        if (!this.vars.includes(item.value)) this.fail(`undefined variable ${JSON.stringify(item.value)}`);
        return { type: 'variable', pos: item.pos, idents: [item.value] };
      case 'field':
        return { type: 'field', pos: item.pos, idents: [item.value.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: item.pos, value: item.value === 'true' };
      case 'number': case 'charConstant':
        return { type: 'number', pos: item.pos, value: this.number(item), text: item.value };
      case 'string': case 'rawString':
        return { type: 'string', pos: item.pos, value: this.unquote(item.value), text: item.value };
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
    }
    this.at--;
    return undefined;
  }

  private number(item: Item): number {
    if (item.type === 'charConstant') {
      const chars = [...this.unquote(item.value)];
      if (chars.length !== 1) this.fail(`malformed character constant: ${item.value}`);
      return chars[0].codePointAt(0) ?? 0;
    }
    const [, sign, digits] = /^([-+]?)(.*)$/s.exec(item.value.replace(/_/g, '')) ?? [];
    const value = /^0\d+$/.test(digits) ? parseInt(digits, 8) : Number(digits);
    if (digits === '' || Number.isNaN(value)) this.fail(`illegal number syntax: ${JSON.stringify(item.value)}`);
    return sign === '-' ? -value : value;
  }

  // unquote is Go's strconv.Unquote of a "..." or '...' or `...` literal.
  private unquote(literal: string): string {
    if (literal.startsWith('`')) return literal.slice(1, -1).replace(/\r/g, '');
    const quote = literal[0];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', [quote]: quote };
    return literal.slice(1, -1).replace(/\\(x[\da-fA-F]{2}|u[\da-fA-F]{4}|U[\da-fA-F]{8}|[0-7]{3}|.)/gs, (escape, code: string) => {
      if (code in simple) return simple[code];
      if (/^[xuU]/.test(code)) return String.fromCodePoint(parseInt(code.slice(1), 16));
      if (/^[0-7]{3}$/.test(code)) return String.fromCharCode(parseInt(code, 8));
      this.fail(`invalid syntax in ${literal}: ${escape}`);
    });
  }
}

// describeItem is an item as Go's item.String() prints it in "unexpected ...".
function describeItem(item: Item): string {
  if (item.type === 'eof') return 'EOF';
  if (item.type === 'keyword' || item.type === 'dot' || item.type === 'nil') return `<${item.value}>`;
  return item.value.length > 10 ? `${JSON.stringify(item.value.slice(0, 10))}...` : JSON.stringify(item.value);
}
