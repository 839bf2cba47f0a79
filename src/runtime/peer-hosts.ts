// Names on a user network: each member's /etc/hosts holds one block per
// network it is on, naming every member (container name, short ID, aliases)
// at its address there. Docker answers these names with an embedded DNS
// server; a hosts file needs no process of ours in the container and no port,
// and every resolver (musl, glibc, busybox) reads it. The blocks are rewritten,
// under the network's lock, whenever a member comes or goes.
//
// A hosts file is bind-mounted into its container, so it is rewritten in place
// (same inode), never replaced by a rename, or the container would keep the old.
import { constants, openSync, closeSync, writeSync, ftruncateSync } from 'node:fs';
import { readBounded } from '../sys/read-bounded';

/** PeerEntry is one member's line: its address and the names it answers to. */
export interface PeerEntry {
  address: string;
  names: string[];
  /** The member's hosts file on the host (in its container's store directory). */
  hosts: string;
}

/** peerBlock is the block of network `name` holding members. */
export function peerBlock(name: string, members: Pick<PeerEntry, 'address' | 'names'>[]): string {
  return [`# nbox network ${name}`, ...members.map((member) => `${member.address}\t${member.names.join(' ')}`), `# end nbox network ${name}`, ''].join('\n');
}

/** withPeerBlock is hosts text with network `name`'s block replaced by block ('' removes it). */
export function withPeerBlock(text: string, name: string, block: string): string {
  const start = `# nbox network ${name}\n`;
  const end = `# end nbox network ${name}\n`;
  const from = text.indexOf(start);
  const to = from < 0 ? -1 : text.indexOf(end, from);
  const rest = from < 0 || to < 0 ? text : text.slice(0, from) + text.slice(to + end.length);
  return rest + block;
}

/** writePeerHosts gives every member its block of network `name`, and takes it from each of `gone`. */
export function writePeerHosts(name: string, members: PeerEntry[], gone: PeerEntry[]): void {
  const block = peerBlock(name, members);
  for (const member of members) rewrite(member.hosts, (text) => withPeerBlock(text, name, block));
  for (const member of gone) rewrite(member.hosts, (text) => withPeerBlock(text, name, ''));
}

// MAX_HOSTS_FILE bounds the hosts file nbox reads back: its container can write it (as in Docker), and one
// grown to hundreds of MB (a sparse truncate) must neither exhaust nbox's memory nor fail every store open.
const MAX_HOSTS_FILE = 1 << 20;

// rewrite changes a hosts file in place; one gone (its container removed), one its container made larger
// than MAX_HOSTS_FILE, or one that cannot be written is left as it is: that member's names go stale, and
// nothing else fails with it (the sweep, an rm, another member's run).
function rewrite(path: string, change: (text: string) => string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    // Bounded: the container may grow the file after any stat.
    const text = readBounded(fd, MAX_HOSTS_FILE);
    if (text === null) return;
    const next = Buffer.from(change(text.toString('utf8')));
    ftruncateSync(fd, 0);
    writeSync(fd, next, 0, next.length, 0);
  } catch {
    // As above: the member's own file, which only its container could have made unwritable.
  } finally {
    closeSync(fd);
  }
}
