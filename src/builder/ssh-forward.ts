// RUN --mount=type=ssh: the step sees a socket of its own, made with the
// mount's mode and owner, whose connections nbox pipes to the agent socket
// given with --ssh, as BuildKit forwards an agent. The agent's own socket,
// its mode and its directory never reach the container. Only agent sockets
// are forwarded: key files would need an agent inside nbox.
import { closeSync, openSync } from 'node:fs';
import { chmod, chown, stat } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';

import { NboxError } from '../errors';

/** SshForward is a listening socket that forwards to an agent; close stops it and drops its connections. */
export interface SshForward {
  close(): Promise<void>;
}

/** forwardSshAgent listens at path (mode, uid, gid as given) and pipes every connection to the agent socket. */
export async function forwardSshAgent(id: string, agent: string, path: string, owner: { mode: number; uid: number; gid: number }): Promise<SshForward> {
  const st = await stat(agent).catch(() => null);
  if (!st?.isSocket()) {
    throw new NboxError('ERR_NBOX_BUILD', `ssh ${id}: ${agent} is not an ssh-agent socket (nbox forwards agent sockets only, not key files: load keys with ssh-add)`);
  }
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = createConnection(agent);
    track(client);
    track(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.pipe(upstream).pipe(client);
  });
  // A unix socket path holds 107 bytes, which a long store root exceeds:
  // binding through a descriptor of its directory keeps the path short.
  const slash = path.lastIndexOf('/');
  const dirFd = openSync(path.slice(0, slash) || '/', 'r');
  try {
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(`/proc/self/fd/${dirFd}/${path.slice(slash + 1)}`, () => {
        server.off('error', failed);
        listening();
      });
    });
  } finally {
    closeSync(dirFd);
  }
  const close = () => {
    for (const socket of open) socket.destroy();
    return new Promise<void>((closed) => server.close(() => closed()));
  };
  try {
    await chmod(path, owner.mode);
    await chown(path, owner.uid, owner.gid);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
