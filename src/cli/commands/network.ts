// `nbox network create|ls|inspect|rm|prune|connect|disconnect`, as Docker prints them.
import type { Command } from 'commander';

import type { NetworkInspect } from '../../api';
import { NboxError } from '../../errors';
import { EXIT_FAILED, collect, forEachRef, keyValues, withExitCode, type CliContext } from '../context';
import { confirm } from './prune';
import { table } from '../format';
import { labelMethod, renderFormat, renderValue, type Row } from '../template';
import { writeOut } from '../stdout';

const LS_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', Label: 'LABEL', CreatedAt: 'CREATED AT' };

/** registerNetwork adds `network` and its verbs. */
export function registerNetwork(program: Command, ctx: CliContext): void {
  const network = program.command('network').description('Manage networks');

  network
    .command('create')
    .description('Create a network')
    .argument('<name>', 'network name')
    .option('-d, --driver <driver>', 'driver to manage the network (only bridge)', 'bridge')
    .option('--subnet <cidr>', 'subnet in CIDR format (a free /24 from 10.92.0.0 on when absent)')
    .option('--gateway <ip>', 'IPv4 gateway for the subnet')
    .option('--internal', 'restrict external access to the network')
    .option('--label <KEY=value>', 'set metadata on a network (repeatable)', collect, [])
    .action(async (name: string, flags: { driver: string; subnet?: string; gateway?: string; internal?: boolean; label: string[] }) => {
      const labels = keyValues(flags.label, '--label', false);
      const nbox = await ctx.open();
      // What the daemon refuses is exit 1 in Docker, not bad usage.
      const created = await nbox.networks.create({ name, driver: flags.driver, subnet: flags.subnet, gateway: flags.gateway, internal: flags.internal, labels })
        .catch((err: unknown) => {
          throw withExitCode(err, EXIT_FAILED);
        });
      writeOut(`${created.id}\n`);
    });

  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'only display network IDs')
    .option('-f, --filter <filter>', 'provide filter values (e.g. "driver=bridge")', collect, [])
    .option('--format <format>', "format output using a Go template ('table', 'json', '{{.Name}}')")
    .option('--no-trunc', 'do not truncate the output')
    .action(async (flags: { quiet?: boolean; filter: string[]; format?: string; trunc: boolean }) => {
      const nbox = await ctx.open();
      const networks = await nbox.networks.list({ filters: flags.filter });
      const id = (n: NetworkInspect) => (flags.trunc ? n.Id.slice(0, 12) : n.Id);
      if (flags.quiet) {
        writeOut(networks.map((n) => `${id(n)}\n`).join(''));
        return;
      }
      if (flags.format !== undefined && flags.format !== 'table') {
        const text = renderFormat(flags.format, networks.map((n) => row(n, id(n))), LS_HEADERS);
        writeOut(text ? `${text}\n` : '');
        return;
      }
      writeOut(`${table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], networks.map((n) => [id(n), n.Name, n.Driver, n.Scope]))}\n`);
    });

  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<networks...>', 'network names or IDs')
    .option('-f, --format <format>', 'format output using a Go template')
    .action(async (refs: string[], flags: { format?: string }) => {
      const nbox = await ctx.open();
      const found: unknown[] = [];
      let missing: Error | undefined;
      for (const ref of refs) {
        try {
          found.push(await nbox.networks.inspect(ref));
        } catch (err) {
          if ((err as NboxError).code !== 'ERR_NBOX_NO_SUCH_NETWORK') throw err;
          missing ??= new NboxError('ERR_NBOX_NO_SUCH_NETWORK', `No such network: ${ref}`);
        }
      }
      if (flags.format === undefined) writeOut(`${JSON.stringify(found, null, 4)}\n`);
      else for (const object of found) writeOut(`${renderValue(flags.format, object)}\n`);
      if (missing) throw missing;
    });

  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<networks...>', 'network names or IDs')
    .option('-f, --force', 'do not error if the network does not exist')
    .action(async (refs: string[], flags: { force?: boolean }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        try {
          await nbox.networks.remove(ref);
        } catch (err) {
          if (flags.force && (err as NboxError).code === 'ERR_NBOX_NO_SUCH_NETWORK') return;
          throw err;
        }
        writeOut(`${ref}\n`);
      });
    });

  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (e.g. "label=<label>")', collect, [])
    .action(async (flags: { force?: boolean; filter: string[] }) => {
      if (!flags.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.'))) return;
      const nbox = await ctx.open();
      const { deleted } = await nbox.networks.prune({ filters: flags.filter });
      if (deleted.length > 0) writeOut(`Deleted Networks:\n${deleted.join('\n')}\n\n`);
    });

  network
    .command('connect')
    .description('Connect a container to a network')
    .argument('<network>', 'network name or ID')
    .argument('<container>', 'container name or ID')
    .option('--alias <alias>', 'add a network-scoped alias for the container (repeatable)', collect, [])
    .option('--ip <address>', 'IPv4 address (e.g., 10.91.0.10)')
    .action(async (networkRef: string, container: string, flags: { alias: string[]; ip?: string }) => {
      const nbox = await ctx.open();
      await nbox.networks.connect(networkRef, container, { aliases: flags.alias, ip: flags.ip }).catch((err: unknown) => {
        throw withExitCode(err, EXIT_FAILED);
      });
    });

  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>', 'network name or ID')
    .argument('<container>', 'container name or ID')
    .option('-f, --force', 'force the container to disconnect from a network')
    .action(async (networkRef: string, container: string) => {
      const nbox = await ctx.open();
      await nbox.networks.disconnect(networkRef, container).catch((err: unknown) => {
        throw withExitCode(err, EXIT_FAILED);
      });
    });
}

// row is a network's template fields, as Docker's network formatter gives them.
function row(network: NetworkInspect, id: string): Row {
  return {
    ID: id,
    Name: network.Name,
    Driver: network.Driver,
    Scope: network.Scope,
    IPv6: String(network.EnableIPv6),
    Internal: String(network.Internal),
    Labels: Object.entries(network.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    Label: labelMethod(network.Labels),
    CreatedAt: network.Created,
  };
}
