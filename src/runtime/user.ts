// USER resolution against the image's /etc/passwd and /etc/group, done in the
// engine so config.json holds numeric ids only and nothing calls getpwnam inside
// the container root (CVE-2019-14271). Semantics follow runc's GetExecUser.
import { NboxError } from '../errors';

/** UserSpec is a USER value split into its user and optional group parts. */
export interface UserSpec {
  user: string;
  group?: string;
}

/** ResolvedUser is the process identity a container starts with. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the primary gid first, then the rest ascending. */
  groups: number[];
  home: string;
  /** The passwd name, when the uid has an entry. */
  name?: string;
}

/** PasswdEntry is one parsed /etc/passwd line. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** GroupEntry is one parsed /etc/group line. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

// (uid_t)-1 means "unchanged" to setresuid(2), so the largest usable id is one less.
const MAX_ID = 2 ** 32 - 2;

/** parseUserSpec splits USER into user and group; an empty group part counts as absent. */
export function parseUserSpec(spec: string): UserSpec {
  const parts = spec.split(':');
  if (parts.length > 2) throw new NboxError('ERR_NBOX_USER', `invalid USER value ${spec}`);
  const [user, group] = parts;
  return group ? { user, group } : { user };
}

/** resolveUser turns USER (plus --group-add values) into ids, groups and HOME using the image's passwd and group text (null when absent). */
export function resolveUser(
  spec: string,
  passwdText: string | null,
  groupText: string | null,
  extraGroups: string[] = [],
): ResolvedUser {
  const { user, group } = parseUserSpec(spec);
  const users = parsePasswd(passwdText ?? '');
  const groups = parseGroup(groupText ?? '');

  const { uid, entry } = lookupUser(user, users);
  // A uid without a passwd entry runs with gid 0 and no error (Docker, podman, runc).
  const gid = group === undefined ? (entry?.gid ?? 0) : lookupGroup(group, groups);

  const supplementary = new Set<number>(extraGroups.map((extra) => lookupGroup(extra, groups)));
  // As runc's GetExecUser: memberships count only when USER names no group.
  if (entry && group === undefined) {
    for (const candidate of groups) if (candidate.members.includes(entry.name)) supplementary.add(candidate.gid);
  }
  // The primary gid must be among the supplementary groups, or files whose group
  // permissions deny access could be read through other groups (CVE-2022-2989).
  supplementary.delete(gid);
  const rest = [...supplementary].sort((a, b) => a - b);

  const resolved: ResolvedUser = { uid, gid, groups: [gid, ...rest], home: entry?.home || '/' };
  if (entry) resolved.name = entry.name;
  return resolved;
}

/** parsePasswd reads /etc/passwd text, skipping blank, comment and malformed lines. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of colonLines(text)) {
    const uid = parseFileId(fields[2]);
    const gid = parseFileId(fields[3]);
    if (fields[0] === '' || uid === undefined || gid === undefined) continue;
    entries.push({ name: fields[0], uid, gid, home: fields[5] ?? '' });
  }
  return entries;
}

/** parseGroup reads /etc/group text, skipping blank, comment and malformed lines. */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const fields of colonLines(text)) {
    const gid = parseFileId(fields[2]);
    if (fields[0] === '' || gid === undefined) continue;
    const members = (fields[3] ?? '').split(',').map((member) => member.trim()).filter((member) => member !== '');
    entries.push({ name: fields[0], gid, members });
  }
  return entries;
}

function* colonLines(text: string): Generator<string[]> {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    yield line.split(':');
  }
}

function parseFileId(field: string | undefined): number | undefined {
  if (field === undefined || !/^\d+$/.test(field)) return undefined;
  const id = Number(field);
  return id <= MAX_ID ? id : undefined;
}

// parseId reads a numeric USER part; undefined means it is a name. Number-like
// values that are not valid ids are rejected rather than looked up as names.
function parseId(text: string, kind: 'uid' | 'gid'): number | undefined {
  if (!/^[-+]?[\d.]+$/.test(text)) return undefined;
  const id = Number(text);
  if (!/^\d+$/.test(text) || id > MAX_ID) {
    throw new NboxError('ERR_NBOX_USER', `invalid ${kind} ${text}: must be an integer from 0 to ${MAX_ID}`);
  }
  return id;
}

// An empty user part means root, as in runc; it still picks up root's passwd entry.
function lookupUser(nameOrId: string, users: PasswdEntry[]): { uid: number; entry?: PasswdEntry } {
  const id = nameOrId === '' ? 0 : parseId(nameOrId, 'uid');
  if (id !== undefined) return { uid: id, entry: users.find((candidate) => candidate.uid === id) };
  const entry = users.find((candidate) => candidate.name === nameOrId);
  if (!entry) throw new NboxError('ERR_NBOX_USER', `unable to find user ${nameOrId}: no matching entries in passwd file`);
  return { uid: entry.uid, entry };
}

function lookupGroup(nameOrId: string, groups: GroupEntry[]): number {
  const id = parseId(nameOrId, 'gid');
  if (id !== undefined) return id;
  const entry = groups.find((candidate) => candidate.name === nameOrId);
  if (!entry) throw new NboxError('ERR_NBOX_USER', `unable to find group ${nameOrId}: no matching entries in group file`);
  return entry.gid;
}
