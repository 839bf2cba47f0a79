// How a command that could not start in a running container is worded, and its exit code, as `docker exec`.
import test from 'ava';

import { SysError } from '../../../src/errors';
import { execFailure } from '../../../src/runtime/exec';

function sysError(step: string, syscall: string, errnoName: string, path: string, text: string): SysError {
  return new SysError({ step, syscall, errno: 1, errnoName, path, message: `${step}: ${syscall} ${path}: ${text}` });
}

const PREFIX = 'OCI runtime exec failed: exec failed: unable to start container process: ';

test('a command not found is 127, worded as docker exec words it', (t) => {
  const err = execFailure(sysError('exec', 'execve', 'ENOENT', 'nope', 'No such file or directory'), 'nope', '/');
  t.is(err.message, `${PREFIX}exec: "nope": executable file not found in $PATH: unknown`);
  t.is(err.exitCode, 127);
  const absolute = execFailure(sysError('exec', 'execve', 'ENOENT', '/bin/nope', 'No such file or directory'), '/bin/nope', '/');
  t.is(absolute.message, `${PREFIX}exec: "/bin/nope": stat /bin/nope: no such file or directory: unknown`);
  t.is(absolute.exitCode, 127);
});

test('a command that is not executable is 126', (t) => {
  const err = execFailure(sysError('exec', 'execve', 'EACCES', '/etc/passwd', 'Permission denied'), '/etc/passwd', '/');
  t.is(err.message, `${PREFIX}exec: "/etc/passwd": permission denied: unknown`);
  t.is(err.exitCode, 126);
});

test('a working directory that is missing or not allowed is the chdir line of runc', (t) => {
  const missing = execFailure(sysError('workdir', 'openat2', 'ENOENT', '/nope', 'No such file or directory'), 'pwd', '/nope');
  t.is(missing.message, `${PREFIX}chdir to cwd ("/nope") set in config.json failed: no such file or directory: unknown`);
  t.is(missing.exitCode, 127);
  const denied = execFailure(sysError('chdir', 'fchdir', 'EACCES', '/root', 'Permission denied'), 'pwd', '/root');
  t.is(denied.message, `${PREFIX}chdir to cwd ("/root") set in config.json failed: permission denied: unknown`);
  t.is(denied.exitCode, 126);
});

test('a cwd outside the root is reported as the breakout runc reports', (t) => {
  const err = execFailure(sysError('chdir', 'getcwd', 'EPERM', '/x', 'Operation not permitted'), 'pwd', '/x');
  t.regex(err.message, /possible container breakout detected: unknown$/);
  t.is(err.exitCode, 126);
});
