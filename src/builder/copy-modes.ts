// COPY/ADD --chown and --chmod values turned into ids and mode functions.
import { NboxError } from '../errors';
import { parseGroup, parsePasswd } from '../runtime/user';

/** Owner is a numeric uid/gid pair. */
export interface Owner {
  uid: number;
  gid: number;
}

/** ChmodFn maps a source entry's permission bits (07777) to the copied entry's. */
export type ChmodFn = (mode: number, isDir: boolean) => number;

// (uid_t)-1 means "unchanged" to chown(2), so the largest usable id is one less.
const MAX_ID = 2 ** 32 - 2;

/** resolveChown turns --chown into ids with Docker's rules: `name` takes the passwd uid and primary gid,
 * a lone number N means N:N, and a group name is looked up in the destination's /etc/group. */
export function resolveChown(spec: string, passwdText: string | null, groupText: string | null): Owner {
  const parts = spec.split(':');
  const [user, group] = parts;
  if (parts.length > 2 || (user === '' && !group)) throw chownError(`invalid chown string: ${JSON.stringify(spec)}`);

  const numericUser = parseId(user);
  let uid: number;
  let primaryGid: number | undefined;
  if (user === '') uid = 0;
  else if (numericUser !== undefined) uid = numericUser;
  else {
    const entry = parsePasswd(passwdText ?? '').find((candidate) => candidate.name === user);
    if (!entry) throw chownError(`can't find uid for user ${user}: no such user: ${user}`);
    uid = entry.uid;
    primaryGid = entry.gid;
  }
  if (!group) return { uid, gid: primaryGid ?? uid };

  const numericGroup = parseId(group);
  if (numericGroup !== undefined) return { uid, gid: numericGroup };
  const entry = parseGroup(groupText ?? '').find((candidate) => candidate.name === group);
  if (!entry) throw chownError(`can't find gid for group ${group}: no such group: ${group}`);
  return { uid, gid: entry.gid };
}

/** chownNeedsUserDb tells whether resolving the --chown value reads /etc/passwd or /etc/group. */
export function chownNeedsUserDb(spec: string): boolean {
  return spec.split(':').some((part) => part !== '' && parseId(part) === undefined);
}

/** parseChmod reads --chmod: octal (0755) or symbolic clauses (u=rwX,go=rX; `X` only for directories or already-executable files). */
export function parseChmod(spec: string): ChmodFn {
  if (/^[0-7]+$/.test(spec)) {
    const bits = parseInt(spec, 8);
    if (bits > 0o7777) throw chmodError(spec);
    return () => bits;
  }
  const clauses = spec.split(',').map((clause) => parseClause(clause, spec));
  return (mode, isDir) => clauses.reduce((current, clause) => clause(current, isDir), mode & 0o7777);
}

// Bits each `who` letter governs, special bits included.
const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

function parseClause(clause: string, spec: string): ChmodFn {
  const match = /^([ugoa]*)((?:[-+=][rwxXst]*)+)$/.exec(clause);
  if (!match) throw chmodError(spec);
  const who = [...(match[1] || 'a')].reduce((bits, letter) => bits | WHO_BITS[letter], 0);
  const operations = match[2].match(/[-+=][rwxXst]*/g)!;
  return (mode, isDir) => {
    for (const operation of operations) {
      const bits = permissionBits(operation.slice(1), mode, isDir) & who;
      if (operation[0] === '+') mode |= bits;
      else if (operation[0] === '-') mode &= ~bits;
      else mode = (mode & ~who) | bits;
    }
    return mode;
  };
}

function permissionBits(letters: string, mode: number, isDir: boolean): number {
  let bits = 0;
  for (const letter of letters) {
    if (letter === 'r') bits |= 0o444;
    else if (letter === 'w') bits |= 0o222;
    else if (letter === 'x') bits |= 0o111;
    else if (letter === 'X' && (isDir || (mode & 0o111) !== 0)) bits |= 0o111;
    else if (letter === 's') bits |= 0o6000;
    else if (letter === 't') bits |= 0o1000;
  }
  return bits;
}

function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const id = Number(text);
  if (id > MAX_ID) throw chownError(`invalid id ${text}: must be an integer from 0 to ${MAX_ID}`);
  return id;
}

function chownError(detail: string): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `unable to convert uid/gid chown string to host mapping: ${detail}`);
}

function chmodError(spec: string): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `invalid chmod parameter: '${spec}'. it should be octal string like 0755 or symbolic like u=rwX,go=rX`);
}
