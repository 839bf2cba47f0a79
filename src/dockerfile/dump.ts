// Nodes as BuildKit's parser tests print them (Node.Dump), so nbox's golden
// corpus has the same `result` format: `(copy ["--chown=1:1"] "a" "b")`.

import { goQuote, goQuoteList } from './go-text';
import type { Node } from './parser';

/** dumpNodes renders nodes one per line, each as a BuildKit s-expression, with a trailing newline. */
export function dumpNodes(nodes: readonly Node[]): string {
  return nodes.map((node) => `(${dumpNode(node)})\n`).join('');
}

function dumpNode(node: Node): string {
  let out = node.keyword.toLowerCase();
  if (node.flags.length > 0) out += ` ${goQuoteList(node.flags)}`;
  if (node.trigger) out += ` (${dumpNode(node.trigger)})`;
  for (const arg of node.args) out += ` ${goQuote(arg)}`;
  return out;
}
