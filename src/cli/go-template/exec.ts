// Go's text/template execution over JSON-shaped data: fields, methods (a
// function a row holds), variables, pipelines, if/with/range/break/continue,
// with Go's truth, sorted map iteration and its error messages.
import { ArgTypeError, BUILTINS, CallError, isTrue, type FuncMap } from './funcs';
import { nodeString, parse, TemplateError, type ArgNode, type FieldNode, type ChainNode, type CommandNode, type ControlNode, type ListNode, type Node, type PipeNode, type VariableNode } from './parse';
import { NO_VALUE, goPrint, goType, sortedEntries } from './print';
import { lazyPattern } from '../../lazy-pattern';

/** RowMethod is a method a row offers, as ps's `{{.Label "key"}}`: string arguments, a string back. */
export type RowMethod = (...args: string[]) => string;

// MISSING is "no value passed down the pipeline", unlike a nil one.
const MISSING = Symbol('missing');
const FUNC_NAMES: ReadonlySet<string> = new Set([...Object.keys(BUILTINS), 'and', 'or']);
// An exported Go identifier: how a struct's fields are named.
const EXPORTED = lazyPattern(String.raw`^\p{Lu}[\p{L}\p{N}_]*$`, 'u');

class BreakSignal {}
class ContinueSignal {}

/** GoTemplate is a parsed template; execute runs it over data. */
export class GoTemplate {
  private readonly root: ListNode;

  /** The constructor throws a TemplateError for a template Go would not parse. */
  constructor(private readonly source: string) {
    this.root = parse(source, FUNC_NAMES);
  }

  /** checkFields throws, as execution would, for a field of the data's top level
   * that known lacks: how a listing with no rows still rejects a bad field. */
  checkFields(known: ReadonlySet<string>): void {
    this.eachTopField((node) => {
      if (!known.has(node.idents[0])) throw executionError(this.source, node, nodeString(node), `can't evaluate field ${node.idents[0]}`);
    });
  }

  /** usesField tells whether the template names a field of the data's top level (as ps asks of `.Size`). */
  usesField(name: string): boolean {
    let used = false;
    this.eachTopField((node) => (used ||= node.idents[0] === name));
    return used;
  }

  // eachTopField visits the fields read from the data's top level: outside with and range lists, where the dot moves.
  private eachTopField(visitField: (node: FieldNode) => void): void {
    const visitArg = (node: ArgNode): void => {
      if (node.type === 'field') visitField(node);
      if (node.type === 'chain') visitArg(node.node);
      if (node.type === 'pipe') visitPipe(node);
    };
    const visitPipe = (pipe: PipeNode) => pipe.cmds.forEach((cmd) => cmd.args.forEach(visitArg));
    const visit = (node: Node): void => {
      if (node.type === 'list') node.nodes.forEach(visit);
      if (node.type === 'action') visitPipe(node.pipe);
      if (node.type === 'if' || node.type === 'with' || node.type === 'range') {
        visitPipe(node.pipe);
        // with and range move the dot inside their lists, not in their else.
        if (node.type === 'if') visit(node.list);
        if (node.elseList) visit(node.elseList);
      }
    };
    visit(this.root);
  }

  /** execute prints data through the template; a TemplateError carries the output written before it. */
  execute(data: unknown, funcs: FuncMap = BUILTINS): string {
    const state = new State(this.source, data, funcs);
    try {
      state.walk(data, this.root);
    } catch (err) {
      if (err instanceof TemplateError) err.output = state.out.join('');
      throw err;
    }
    return state.out.join('');
  }
}

// executionError is Go's: where in the source, and the node that failed.
function executionError(source: string, node: { pos: number }, context: string, message: string): TemplateError {
  const before = source.slice(0, node.pos);
  const line = 1 + (before.match(/\n/g)?.length ?? 0);
  const column = node.pos - (before.lastIndexOf('\n') + 1);
  const shown = context.length > 20 ? `${context.slice(0, 20)}...` : context;
  return new TemplateError(`template: :${line}:${column}: executing "" at <${shown}>: ${message}`);
}

// isStruct tells a Go struct from a map in data that came through JSON: Docker's
// struct fields are exported identifiers, its map keys (labels, ports, network
// names, paths, ids) seldom all are. A struct lacks what it does not name; a map
// gives <no value>.
function isStruct(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => EXPORTED.test(key));
}

function isMapLike(value: unknown): value is object {
  return value instanceof Map || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

class State {
  readonly out: string[] = [];
  private readonly vars: { name: string; value: unknown }[];

  constructor(private readonly source: string, data: unknown, private readonly funcs: FuncMap) {
    this.vars = [{ name: '$', value: data }];
  }

  private fail(node: { pos: number }, context: string, message: string): never {
    throw executionError(this.source, node, context, message);
  }

  walk(dot: unknown, node: Node): void {
    switch (node.type) {
      case 'list':
        for (const child of node.nodes) this.walk(dot, child);
        return;
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out.push(goPrint(value));
        return;
      }
      case 'if': case 'with':
        return this.walkIfOrWith(dot, node);
      case 'range':
        return this.walkRange(dot, node);
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkIfOrWith(dot: unknown, node: ControlNode): void {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    if (isTrue(value)) this.walk(node.type === 'with' ? value : dot, node.list);
    else if (node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
  }

  private walkRange(dot: unknown, node: ControlNode): void {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    const { decl } = node.pipe;
    const inner = this.vars.length;
    let pairs: [unknown, unknown][];
    if (Array.isArray(value)) pairs = value.map((item, i) => [i, item]);
    else if (isMapLike(value)) pairs = sortedEntries(value);
    else if (Number.isInteger(value)) {
      if (decl.length > 1) this.fail(node, `{{range ${nodeString(node.pipe)}}}`, `can't use ${value as number} to iterate over more than one variable`);
      pairs = Array.from({ length: Math.max(value as number, 0) }, (_, i) => [i, i]);
    } else if (value === null || value === undefined || value === NO_VALUE) pairs = [];
    else this.fail(node, `{{range ${nodeString(node.pipe)}}}`, `range can't iterate over ${goPrint(value)}`);
    for (const [key, item] of pairs) {
      // With two variables the first gets the key; with one, the element.
      if (decl.length > 0) this.setVar(decl[decl.length - 1], item);
      if (decl.length > 1) this.setVar(decl[0], key);
      try {
        this.walk(item, node.list);
      } catch (err) {
        if (err instanceof BreakSignal) break;
        if (!(err instanceof ContinueSignal)) throw err;
      } finally {
        this.vars.length = inner;
      }
    }
    if (pairs.length === 0 && node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
  }

  private setVar(variable: VariableNode, value: unknown): void {
    const name = variable.idents[0];
    this.variable(name).value = value;
  }

  // variable is the innermost variable of that name (the parser checked there is one).
  private variable(name: string): { name: string; value: unknown } {
    return this.vars.filter((v) => v.name === name).at(-1) as { name: string; value: unknown };
  }

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable, value);
      else this.vars.push({ name: variable.idents[0], value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: unknown): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field': return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain': return this.evalChain(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd.args, final);
      case 'variable': return this.evalVariable(dot, first, cmd.args, final);
      default: break;
    }
    this.notAFunction(first, cmd.args, final);
    switch (first.type) {
      case 'pipe': return this.evalPipeline(dot, first);
      case 'dot': return dot;
      case 'nil': return this.fail(first, 'nil', 'nil is not a command');
      default: return first.value;
    }
  }

  private notAFunction(node: ArgNode, args: ArgNode[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) this.fail(node, nodeString(node), `can't give argument to non-function ${nodeString(node)}`);
  }

  private evalArg(dot: unknown, node: ArgNode): unknown {
    switch (node.type) {
      case 'field': return this.evalFieldChain(dot, dot, node, node.idents, [node], MISSING);
      case 'variable': return this.evalVariable(dot, node, [node], MISSING);
      case 'chain': return this.evalChain(dot, node, [node], MISSING);
      case 'identifier': return this.evalFunction(dot, node, [node], MISSING);
      case 'pipe': return this.evalPipeline(dot, node);
      case 'dot': return dot;
      case 'nil': return null;
      default: return node.value;
    }
  }

  private evalVariable(dot: unknown, node: VariableNode, args: ArgNode[], final: unknown): unknown {
    const [name, ...fields] = node.idents;
    const { value } = this.variable(name);
    if (fields.length === 0) {
      this.notAFunction(node, args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, node, fields, args, final);
  }

  private evalChain(dot: unknown, node: ChainNode, args: ArgNode[], final: unknown): unknown {
    if (node.node.type === 'nil') this.fail(node, nodeString(node), `indirection through explicit nil in ${nodeString(node)}`);
    return this.evalFieldChain(dot, this.evalArg(dot, node.node), node, node.fields, args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: ArgNode, idents: string[], args: ArgNode[], final: unknown): unknown {
    let value = receiver;
    idents.forEach((name, i) => {
      const last = i === idents.length - 1;
      value = this.evalField(dot, name, node, last ? args : [], last ? final : MISSING, value);
    });
    return value;
  }

  private evalField(dot: unknown, name: string, node: ArgNode, args: ArgNode[], final: unknown, receiver: unknown): unknown {
    const at = nodeString(node);
    if (receiver === NO_VALUE) return NO_VALUE;
    if (receiver === null || receiver === undefined) this.fail(node, at, `nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (isMapLike(receiver)) {
      const member = receiver instanceof Map ? receiver.get(name) : Object.hasOwn(receiver, name) ? (receiver as Record<string, unknown>)[name] : undefined;
      if (typeof member === 'function') return this.callMethod(dot, name, member as RowMethod, node, args, final);
      if (!(receiver instanceof Map) && isStruct(receiver)) {
        if (member === undefined) this.fail(node, at, `can't evaluate field ${name}`);
        if (hasArgs) this.fail(node, at, `${name} has arguments but cannot be invoked as function`);
        return member;
      }
      if (hasArgs) this.fail(node, at, `${name} is not a method but has arguments`);
      return member === undefined ? NO_VALUE : member;
    }
    this.fail(node, at, `can't evaluate field ${name} in type ${goType(receiver)}`);
  }

  private callMethod(dot: unknown, name: string, method: RowMethod, node: ArgNode, args: ArgNode[], final: unknown): unknown {
    const values = this.evalArgs(dot, args, final);
    if (values.length !== method.length) this.fail(node, nodeString(node), `wrong number of args for ${name}: want ${method.length} got ${values.length}`);
    const wrong = values.find((value) => typeof value !== 'string');
    if (wrong !== undefined) this.fail(node, nodeString(node), `wrong type for value; expected string; got ${goType(wrong)}`);
    return method(...(values as string[]));
  }

  private evalArgs(dot: unknown, args: ArgNode[], final: unknown): unknown[] {
    const values = args.slice(1).map((arg) => this.evalArg(dot, arg));
    if (final !== MISSING) values.push(final);
    return values;
  }

  private evalFunction(dot: unknown, node: Extract<ArgNode, { type: 'identifier' }>, args: ArgNode[], final: unknown): unknown {
    const { name } = node;
    const given = args.length - 1 + (final === MISSING ? 0 : 1);
    if (name === 'and' || name === 'or') {
      if (given < 1) this.fail(node, name, `wrong number of args for ${name}: want at least 1 got 0`);
      // Go 1.18's and/or stop at the first argument that decides, unevaluated the rest.
      let value: unknown;
      for (const arg of args.slice(1)) {
        value = this.evalArg(dot, arg);
        if (isTrue(value) === (name === 'or')) return value;
      }
      return final === MISSING ? value : final;
    }
    const func = this.funcs[name];
    if (given < func.min || (func.max !== undefined && given > func.max)) {
      const want = func.max === undefined ? `at least ${func.min}` : String(func.min);
      this.fail(node, name, `wrong number of args for ${name}: want ${want} got ${given}`);
    }
    const values = this.evalArgs(dot, args, final);
    try {
      return func.call(values);
    } catch (err) {
      if (err instanceof ArgTypeError) this.fail(node, name, err.message);
      if (err instanceof CallError) this.fail(node, name, `error calling ${name}: ${err.message}`);
      throw err;
    }
  }
}
