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

// The json-file driver's own options and the attributes every driver takes: Docker knows them, nbox's log does
// not apply them (it is not rotated, nor are records tagged), so they are refused rather than dropped.
const DOCKER_JSON_FILE_OPTS = ['max-size', 'max-file', 'compress', 'env', 'env-regex', 'labels', 'labels-regex', 'tag', 'mode', 'max-buffer-size'];

/** logConfig reads --log-driver (json-file by default) and --log-opt KEY=VALUE; the first bad one is reported. */
export function logConfig(driver: string | undefined, opts: Record<string, string> = {}): LogConfig {
  const type = driver || 'json-file';
  if (type !== 'json-file' && type !== 'none') throw new NboxError('ERR_NBOX_USAGE', `logger: no log driver named '${type}' is registered`);
  // Docker checks no option of the none driver.
  if (type === 'json-file') {
    for (const key of Object.keys(opts)) {
      if (!DOCKER_JSON_FILE_OPTS.includes(key)) throw new NboxError('ERR_NBOX_USAGE', `unknown log opt '${key}' for json-file log driver`);
      throw new NboxError('ERR_NBOX_USAGE', `log opt '${key}' is not supported: nbox's json-file log is neither rotated nor tagged`);
    }
  }
  return { type, config: opts };
}
