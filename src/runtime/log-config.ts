// --log-driver and --log-opt, checked as Docker's daemon checks them: the json-file log a monitor writes,
// or none at all. Other drivers ship logs off the host, which nbox does not do.
import { NboxError } from '../errors';

/** LogConfig is Docker's HostConfig.LogConfig. */
export interface LogConfig {
  type: 'json-file' | 'none';
  config: Record<string, string>;
}

/** DEFAULT_LOG_CONFIG is what a container made without --log-driver (or before it existed) has. */
export const DEFAULT_LOG_CONFIG: LogConfig = { type: 'json-file', config: {} };

// The json-file driver's own options and the attributes every driver takes. nbox's log applies max-size and
// max-file; the others (compression, tags) it does not, so they are refused rather than dropped.
const DOCKER_JSON_FILE_OPTS = ['max-size', 'max-file', 'compress', 'env', 'env-regex', 'labels', 'labels-regex', 'tag', 'mode', 'max-buffer-size'];
const APPLIED_OPTS = ['max-size', 'max-file'];

/** logConfig reads --log-driver (json-file by default) and --log-opt KEY=VALUE; the first bad one is reported. */
export function logConfig(driver: string | undefined, opts: Record<string, string> = {}): LogConfig {
  const type = driver || 'json-file';
  if (type !== 'json-file' && type !== 'none') throw new NboxError('ERR_NBOX_USAGE', `logger: no log driver named '${type}' is registered`);
  // Docker checks no option of the none driver.
  if (type === 'json-file') {
    for (const key of Object.keys(opts)) {
      if (!DOCKER_JSON_FILE_OPTS.includes(key)) throw new NboxError('ERR_NBOX_USAGE', `unknown log opt '${key}' for json-file log driver`);
      if (!APPLIED_OPTS.includes(key)) throw new NboxError('ERR_NBOX_USAGE', `log opt '${key}' is not supported: nbox's json-file log is not compressed nor tagged`);
    }
    logRotation({ type, config: opts });
  }
  return { type, config: opts };
}

/** logRotation is the json-file log's max-size (bytes) and max-file as the monitor takes them, or undefined for
 * an unbounded log; values are checked as moby's json-file driver checks them. */
export function logRotation(config: LogConfig): { maxSize: number; maxFile: number } | undefined {
  const size = config.config['max-size'];
  const files = config.config['max-file'];
  if (config.type !== 'json-file' || size === undefined) {
    if (files !== undefined && config.type === 'json-file') parseMaxFile(files);
    return undefined;
  }
  const maxSize = fromHumanSize(size);
  if (maxSize <= 0) throw new NboxError('ERR_NBOX_USAGE', 'max-size must be a positive number');
  return { maxSize, maxFile: files === undefined ? 1 : parseMaxFile(files) };
}

function parseMaxFile(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new NboxError('ERR_NBOX_USAGE', `strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const count = Number(text);
  if (count < 1) throw new NboxError('ERR_NBOX_USAGE', 'max-file cannot be less than 1');
  return count;
}

// fromHumanSize is go-units' FromHumanSize: decimal units (10m is 10,000,000 bytes), an `i` and a `b` allowed after.
function fromHumanSize(text: string): number {
  const match = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!match) throw new NboxError('ERR_NBOX_USAGE', `invalid size: '${text}'`);
  const unit = match[2] ? 1000 ** ('kmgtp'.indexOf(match[2].toLowerCase()) + 1) : 1;
  return Math.floor(Number.parseFloat(match[1]) * unit);
}
