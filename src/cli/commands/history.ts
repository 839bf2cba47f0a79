// `nbox history IMAGE`: Docker's IMAGE CREATED CREATED BY SIZE COMMENT table.
import type { Command } from 'commander';

import type { HistoryItem } from '../../api';
import type { CliContext } from '../context';
import { since } from '../../api';
import { ellipsis, humanSize, shortId, table } from '../format';
import { rfc3339Local } from '../local-time';
import { renderFormat } from '../template';
import { writeOut } from '../stdout';

interface HistoryFlags {
  trunc: boolean;
  quiet?: boolean;
  format?: string;
  human: boolean;
}

// The table header of each --format field, as the docker CLI names them.
const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

/** registerHistory adds `history`. */
export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>', 'image name or ID')
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only show image IDs')
    .option('-H, --human [bool]', 'print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('--format <template>', 'format output using a Go template: {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}, or table ...')
    .action(async (ref: string, flags: HistoryFlags) => {
      const nbox = await ctx.open();
      const items = await nbox.history(ref);
      const now = new Date();
      const fields = (item: HistoryItem): Record<string, string> => ({
        ID: item.id === '<missing>' || !flags.trunc ? item.id : shortId(item.id),
        CreatedSince: item.created ? since(item.created, now) : 'N/A',
        CreatedAt: item.created ? rfc3339Local(item.created) : 'N/A',
        CreatedBy: flags.trunc ? ellipsis(item.createdBy.replace(/\s+/g, ' '), 45) : item.createdBy,
        Size: flags.human ? humanSize(item.size) : String(item.size),
        Comment: item.comment,
      });
      let text: string;
      if (flags.quiet) {
        text = items.map((item) => fields(item).ID).join('\n');
      } else if (flags.format) {
        text = renderFormat(flags.format, items.map(fields), HEADERS);
      } else {
        const rows = items.map((item) => {
          const f = fields(item);
          return [f.ID, flags.human ? f.CreatedSince : f.CreatedAt, f.CreatedBy, f.Size, f.Comment];
        });
        text = table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows);
      }
      if (text) writeOut(`${text}\n`);
    });
}
