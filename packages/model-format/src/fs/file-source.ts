// Node file byte source: each read opens, reads exactly the range and closes, so no handle outlives a call,
// and a file replaced underneath us (size or mtime changed) is reported instead of read as garbage.
import { open, stat } from 'node:fs/promises';
import { FetchError, type ByteSource } from '../byte-source.js';
import { SafetensorsReader } from '../lazy-safetensors.js';

export async function fileSource(path: string): Promise<ByteSource> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new FetchError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new FetchError(`${path}: not a regular file`);
  const { size, mtimeMs, ino } = st;
  return {
    name: path,
    size,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > size) throw new FetchError(`${path}: read of ${length} bytes at ${offset} is outside the ${size}-byte file`);
      const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
        throw new FetchError(`${path}: cannot open (${e.code ?? e.message})`);
      });
      try {
        const now = await fh.stat();
        if (now.size !== size || now.mtimeMs !== mtimeMs || now.ino !== ino) throw new FetchError(`${path}: file changed on disk since it was opened (size ${size} -> ${now.size}); reopen it`);
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) throw new FetchError(`${path}: unexpected end of file at ${offset + done}`);
          done += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}

/** Node: opens a safetensors file lazily: parses only the header now; tensor bytes are read on demand. */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  return SafetensorsReader.open(await fileSource(path));
}
