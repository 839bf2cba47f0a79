// `nbox volume create|ls|inspect|rm|prune`, as Docker prints them.
import type { Command } from 'commander';

import type { VolumeRecord } from '../../api';
import { NboxError } from '../../errors';
import { EXIT_FAILED, collect, forEachRef, keyValues, withExitCode, type CliContext } from '../context';
import { table } from '../format';
import { labelMethod, renderFormat, renderValue, type Row } from '../template';
import { confirm, report } from './prune';
import { writeOut } from '../stdout';

const LS_HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Label: 'LABEL', Links: 'LINKS', Size: 'SIZE' };

/** registerVolume adds `volume` and its verbs. */
export function registerVolume(program: Command, ctx: CliContext): void {
  const volume = program.command('volume').description('Manage volumes');

  volume
    .command('create')
    .description('Create a volume')
    .argument('[name]', 'volume name (a random one when absent)')
    .option('--name <name>', 'specify volume name')
    .option('-d, --driver <driver>', 'specify volume driver name (only local)', 'local')
    .option('-l, --label <KEY=value>', 'set metadata for a volume (repeatable)', collect, [])
    .option('-o, --opt <KEY=value>', 'set driver specific options (none are supported)', collect, [])
    .action(async (name: string | undefined, flags: { name?: string; driver: string; label: string[]; opt: string[] }) => {
      if (name !== undefined && flags.name !== undefined && name !== flags.name) {
        throw new NboxError('ERR_NBOX_USAGE', `conflicting options: either specify --name or provide positional arg, not both`);
      }
      if (flags.opt.length > 0) throw new NboxError('ERR_NBOX_USAGE', `--opt ${flags.opt[0]}: the local driver's mount options are not supported`);
      const labels = keyValues(flags.label, '--label', false);
      const nbox = await ctx.open();
      // A name or driver the store refuses is the daemon's error in Docker: exit 1, not bad usage.
      const created = await nbox.volumes.create({ name: name ?? flags.name, labels, driver: flags.driver }).catch((err: unknown) => {
        throw withExitCode(err, EXIT_FAILED);
      });
      writeOut(`${created.name}\n`);
    });

  volume
    .command('ls')
    .alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'only display volume names')
    .option('-f, --filter <filter>', 'provide filter values (e.g. "dangling=true")', collect, [])
    .option('--format <format>', "format output using a Go template ('table', 'json', '{{.Name}}')")
    .action(async (flags: { quiet?: boolean; filter: string[]; format?: string }) => {
      const nbox = await ctx.open();
      const volumes = await nbox.volumes.list({ filters: flags.filter });
      if (flags.quiet) {
        writeOut(volumes.map((v) => `${v.name}\n`).join(''));
        return;
      }
      if (flags.format !== undefined && flags.format !== 'table') {
        const text = renderFormat(flags.format, volumes.map(row), LS_HEADERS);
        writeOut(text ? `${text}\n` : '');
        return;
      }
      writeOut(`${table(['DRIVER', 'VOLUME NAME'], volumes.map((v) => [v.driver, v.name]))}\n`);
    });

  volume
    .command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<volumes...>', 'volume names')
    .option('-f, --format <format>', 'format output using a Go template')
    .action(async (names: string[], flags: { format?: string }) => {
      const nbox = await ctx.open();
      const found: unknown[] = [];
      let missing: Error | undefined;
      for (const name of names) {
        try {
          found.push(await nbox.volumes.inspect(name));
        } catch (err) {
          if ((err as NboxError).code !== 'ERR_NBOX_NO_SUCH_VOLUME') throw err;
          missing ??= err as Error;
        }
      }
      if (flags.format === undefined) writeOut(`${JSON.stringify(found, null, 4)}\n`);
      else for (const object of found) writeOut(`${renderValue(flags.format, object)}\n`);
      if (missing) throw missing;
    });

  volume
    .command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .argument('<volumes...>', 'volume names')
    .option('-f, --force', 'force the removal of one or more volumes')
    .action(async (names: string[], flags: { force?: boolean }) => {
      const nbox = await ctx.open();
      await forEachRef(names, async (name) => {
        await nbox.volumes.remove(name, { force: flags.force });
        writeOut(`${name}\n`);
      });
    });

  volume
    .command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (e.g. "label=<label>")', collect, [])
    .action(async (flags: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = flags.all
        ? 'WARNING! This will remove all local volumes not used by at least one container.'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
      if (!flags.force && !(await confirm(warning))) return;
      const nbox = await ctx.open();
      const result = await nbox.volumes.prune({ all: flags.all, filters: flags.filter });
      report('Deleted Volumes:', result.deleted, result.spaceReclaimed);
    });
}

// row is a volume's template fields, as Docker's volume formatter gives them.
function row(volume: VolumeRecord): Row {
  return {
    Name: volume.name,
    Driver: volume.driver,
    Scope: 'local',
    Mountpoint: volume.mountpoint,
    Labels: Object.entries(volume.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Label: labelMethod(volume.labels),
    Links: 'N/A',
    Size: 'N/A',
  };
}
