// `nbox history IMAGE`: Docker's IMAGE CREATED CREATED BY SIZE COMMENT table.
import type { Command } from 'commander';

import type { HistoryItem } from '../../api';
import type { CliContext } from '../context';
import { since } from '../../api';
import { ellipsis, humanSize, shortId, table } from '../format';

interface HistoryFlags {
  trunc: boolean;
  quiet?: boolean;
  format?: string;
  human: boolean;
}

/** registerHistory adds `history`. */
export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>', 'image name or ID')
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only show image IDs')
    .option('-H, --human [bool]', 'print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('--format <template>', 'format output using a Go-template-like string: {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}')
    .action(async (ref: string, flags: HistoryFlags) => {
      const nbox = await ctx.open();
      const items = await nbox.history(ref);
      const now = new Date();
      const fields = (item: HistoryItem): Record<string, string> => ({
        ID: item.id === '<missing>' || !flags.trunc ? item.id : shortId(item.id),
        CreatedSince: item.created ? since(item.created, now) : 'N/A',
        CreatedAt: item.created ? item.created.toISOString() : 'N/A',
        CreatedBy: flags.trunc ? ellipsis(item.createdBy.replace(/\s+/g, ' '), 45) : item.createdBy,
        Size: flags.human ? humanSize(item.size) : String(item.size),
        Comment: item.comment,
      });
      let text: string;
      if (flags.quiet) {
        text = items.map((item) => fields(item).ID).join('\n');
      } else if (flags.format) {
        const template = flags.format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
        text = items.map((item) => template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, key: string) => fields(item)[key] ?? '')).join('\n');
      } else {
        const rows = items.map((item) => {
          const f = fields(item);
          return [f.ID, flags.human ? f.CreatedSince : f.CreatedAt, f.CreatedBy, f.Size, f.Comment];
        });
        text = table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows);
      }
      if (text) process.stdout.write(`${text}\n`);
    });
}
