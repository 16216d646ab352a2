// Atomic file writes: write a temp file next to the target, fsync, rename over the target, fsync the directory.
// A reader (or a crash) sees either the old file or the new one, never a partial write.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function tempName(target: string, tag = 'tmp'): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsync a directory so a rename inside it is durable (best effort: not every platform allows it). */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Windows and some file systems refuse fsync on directories; the rename is still atomic.
  }
}

/** Writes chunks to a new file and fsyncs it. */
export async function writeDurable(path: string, chunks: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    for await (const c of chunks) {
      const buf = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let done = 0;
      while (done < buf.byteLength) {
        const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done);
        done += bytesWritten;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Atomically replaces `path` with `data` (temp file in the same directory + rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>): Promise<void> {
  const tmp = tempName(path);
  const chunks = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  try {
    await writeDurable(tmp, chunks);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}
