// The content digest of a COPY/ADD plan, the part of the step's cache key that
// stands for its sources: what would land in the layer, except mtimes, so a
// touched file still hits the cache and a chmod misses it (BuildKit #403).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CopyPlan, PlannedEntry } from './copy';
import { SourceRoots, type FileIdentity } from './source-file';
import { copiedXattrs } from '../image/fs-calls';

// Files up to this size are read whole with a synchronous call: for many small
// files that is several times faster than a thread-pool round trip per file.
// Larger ones are streamed.
const WHOLE_READ_LIMIT = 1 << 20;
// Files read between two yields to the event loop, so signals still run.
const FILES_PER_YIELD = 256;

/** copyDigest is 'sha256:…' over the planned entries' paths, kinds, modes, owners, link targets, device numbers, xattrs and content. */
export async function copyDigest(plan: CopyPlan): Promise<string> {
  const hash = createHash('sha256');
  const sources = new SourceRoots();
  try {
    let sinceYield = 0;
    for (const entry of plan.entries) {
      let content: string | null = null;
      if (entry.content) content = sha256(entry.content);
      else if (entry.kind === 'file') {
        content = await hashFile(sources, entry.hostPath!, entry.seen, entry.size ?? Infinity);
        if (++sinceYield >= FILES_PER_YIELD) {
          sinceYield = 0;
          await yieldToLoop();
        }
      }
      const record = [entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.typeBits ?? null, entry.rdev ?? null, entry.target ?? null, content, xattrRecord(entry)];
      hash.update(`${JSON.stringify(record)}\n`);
    }
    for (const archive of plan.archives) {
      const content = await hashFile(sources, archive.hostPath, archive.seen, Infinity);
      hash.update(`${JSON.stringify(['archive', archive.destDir, archive.compression, content, archive.owner ?? null])}\n`);
    }
  } finally {
    sources.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

function xattrRecord(entry: PlannedEntry): [string, string][] | null {
  if (!entry.copyXattrs || !entry.hostPath) return null;
  return copiedXattrs(entry.hostPath).map(([name, value]) => [name, value.toString('hex')]);
}

// hashFile reads a source as the copy will: the very file the plan saw, or an error.
async function hashFile(sources: SourceRoots, hostPath: string, seen: FileIdentity | undefined, size: number): Promise<string> {
  if (size <= WHOLE_READ_LIMIT) return sha256(sources.read(hostPath, seen, size));
  const source = sources.open(hostPath, seen);
  try {
    const hash = createHash('sha256');
    await pipeline(createReadStream(source.path), hash);
    return hash.digest('hex');
  } finally {
    source.close();
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
