// `docker top`: the host's `ps` (with the caller's options, `-ef` by default),
// cut to the processes in the container's cgroup, as dockerd does it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { NboxError } from '../errors';
import type { ContainerRecord } from './container-record';
import { isRunning } from './stop';

/** ProcessTable is `ps`'s header fields and one row of fields per process. */
export interface ProcessTable {
  titles: string[];
  processes: string[][];
}

/** containerTop lists the container's processes with `ps psArgs`. */
export async function containerTop(record: ContainerRecord, psArgs: string[] = ['-ef']): Promise<ProcessTable> {
  if (!isRunning(record) || !record.state.cgroup?.length) {
    throw new NboxError('ERR_NBOX_CONFLICT', `container ${record.config.id} is not running`);
  }
  const pids = new Set((await readFile(join(record.state.cgroup[0], 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean));
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ps', psArgs, { maxBuffer: 64 << 20 }));
  } catch (err) {
    throw new NboxError('ERR_NBOX_USAGE', `ps: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
  }
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  const titles = header.trim().split(/\s+/);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw new NboxError('ERR_NBOX_USAGE', `Couldn't find PID field in ps output`);
  // The last column (the command) may hold spaces: split only as far as the titles go.
  const rows = lines.map((line) => {
    const fields = line.trim().split(/\s+/);
    return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
  });
  return { titles, processes: rows.filter((row) => pids.has(row[pidColumn])) };
}
