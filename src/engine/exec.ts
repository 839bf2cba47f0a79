// Exec instances over the API: create, start (hijacked, or a plain streamed
// reply), inspect and resize, as the docker CLI and dockerode drive them.
import type { ServerResponse } from 'node:http';
import { constants } from 'node:os';
import { finished } from 'node:stream/promises';

import { ContainerStartError, type ExecProcess } from '../api';
import type { RequestContext, Routes, Handler, HijackHandler } from './router';
import { EngineError, parseJsonBody, readJson, sendJson, terminalSize } from './http';
import { MULTIPLEXED, RAW } from './frames';
import { writer, type StreamPeer } from './container-io';
import type { ExecConfig, ExecInstance } from './state';

/** StartBody is exec start's body. */
interface StartBody {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

async function create(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const config = await readJson<ExecConfig>(ctx.req);
  if (!Array.isArray(config.Cmd) || config.Cmd.length === 0) throw new EngineError(400, 'No exec command specified');
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  if (record.state.status !== 'running') throw new EngineError(409, `container ${record.config.id} is not running`);
  if (record.state.paused) throw new EngineError(409, `container ${record.config.id} is paused, unpause the container before exec`);
  const exec = ctx.state.newExec(record.config.id, config);
  ctx.state.emit('container', `exec_create: ${config.Cmd.join(' ')}`, record.config.id);
  sendJson(res, 201, { Id: exec.id });
}

function instance(ctx: RequestContext): ExecInstance {
  const exec = ctx.state.execs.get(ctx.params.id);
  if (!exec) throw new EngineError(404, `No such exec instance: ${ctx.params.id}`);
  return exec;
}

/** run starts the exec and copies its streams to and from the peer until it exits; returns its exit code. */
async function run(ctx: RequestContext, exec: ExecInstance, peer: StreamPeer | null, start: StartBody): Promise<void> {
  const { config } = exec;
  const tty = start.Tty ?? config.Tty ?? false;
  const size = start.ConsoleSize ?? config.ConsoleSize;
  const detach = start.Detach ?? false;
  exec.started = true;
  let proc: ExecProcess;
  try {
    proc = await ctx.nbox.execStream(exec.containerId, config.Cmd ?? [], {
      env: config.Env ?? undefined,
      user: config.User || undefined,
      workdir: config.WorkingDir || undefined,
      tty: tty && !detach,
      ttySize: size ? { rows: size[0], cols: size[1] } : undefined,
      stdin: !tty && (config.AttachStdin ?? false),
      stdio: detach ? 'ignore' : 'pipe',
      detach,
    });
  } catch (err) {
    if (!(err instanceof ContainerStartError)) throw err;
    exec.exitCode = err.exitCode;
    if (peer) writer(peer.output, tty, 2)(Buffer.from(`OCI runtime exec failed: ${err.message}\r\n`));
    return;
  }
  exec.pid = proc.pid;
  exec.running = !detach;
  exec.resize = (rows, cols) => proc.resize({ rows, cols });
  ctx.state.emit('container', `exec_start: ${(config.Cmd ?? []).join(' ')}`, exec.containerId);
  if (detach) return;
  const copies: Promise<void>[] = [];
  if (peer && proc.stdout && config.AttachStdout !== false) {
    proc.stdout.on('data', writer(peer.output, tty, 1));
    copies.push(finished(proc.stdout).then(() => {}, () => {}));
  } else proc.stdout?.resume();
  if (peer && proc.stderr && config.AttachStderr !== false) {
    proc.stderr.on('data', writer(peer.output, tty, 2));
    copies.push(finished(proc.stderr).then(() => {}, () => {}));
  } else proc.stderr?.resume();
  if (proc.stdin && peer?.input) {
    proc.stdin.on('error', () => {});
    peer.input.pipe(proc.stdin);
  } else proc.stdin?.end();
  const exit = await proc.exited;
  await Promise.all(copies);
  exec.running = false;
  exec.exitCode = exit.exitCode ?? 128 + (exit.signal ? constants.signals[exit.signal] : 0);
  ctx.state.emit('container', 'exec_die', exec.containerId, { execID: exec.id, exitCode: String(exec.exitCode) });
}

function checkStartable(exec: ExecInstance): void {
  if (exec.started) throw new EngineError(409, `exec ${exec.id} has already been started`);
}

async function startHijacked(ctx: RequestContext, body: Buffer): ReturnType<HijackHandler> {
  const exec = instance(ctx);
  checkStartable(exec);
  const start = parseJsonBody<StartBody>(body);
  const tty = start.Tty ?? exec.config.Tty ?? false;
  return { contentType: tty ? RAW : MULTIPLEXED, run: (conn) => run(ctx, exec, { output: conn, input: conn }, start) };
}

async function startPlain(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const exec = instance(ctx);
  checkStartable(exec);
  const start = await readJson<StartBody>(ctx.req);
  if (start.Detach) {
    await run(ctx, exec, null, start);
    sendJson(res, 200, {});
    return;
  }
  const tty = start.Tty ?? exec.config.Tty ?? false;
  res.writeHead(200, { 'Content-Type': tty ? RAW : MULTIPLEXED });
  res.flushHeaders();
  await run(ctx, exec, { output: res, input: null }, start);
  res.end();
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const exec = instance(ctx);
  const [entrypoint, ...args] = exec.config.Cmd ?? [];
  sendJson(res, 200, {
    ID: exec.id,
    Running: exec.running,
    ExitCode: exec.exitCode,
    ProcessConfig: { tty: exec.config.Tty ?? false, entrypoint, arguments: args, privileged: exec.config.Privileged ?? false, user: exec.config.User ?? '' },
    OpenStdin: exec.config.AttachStdin ?? false,
    OpenStderr: exec.config.AttachStderr ?? false,
    OpenStdout: exec.config.AttachStdout ?? false,
    CanRemove: false,
    ContainerID: exec.containerId,
    DetachKeys: exec.config.DetachKeys ?? '',
    Pid: exec.pid,
  });
}

async function resize(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const exec = instance(ctx);
  const { rows, cols } = terminalSize(ctx.query);
  exec.resize?.(rows, cols);
  res.writeHead(200);
  res.end();
}

/** addExecRoutes adds the exec endpoints. */
export function addExecRoutes(routes: Routes<Handler>, hijacks: Routes<HijackHandler>): void {
  routes
    .add('POST', '/containers/{id}/exec', create)
    .add('POST', '/exec/{id}/start', startPlain)
    .add('GET', '/exec/{id}/json', inspect)
    .add('POST', '/exec/{id}/resize', resize);
  hijacks.add('POST', '/exec/{id}/start', startHijacked);
}
