// Random-access byte sources for lazy reading: in-memory bytes, HTTP (Range requests or whole body), files (Node, in ./fs).

export interface ByteSource {
  /** Name used in error messages (path or URL). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; returns a fresh or view buffer. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Raised when a file or URL cannot be read (missing, HTTP error, changed underneath us). */
export class FetchError extends Error {
  override name = 'FetchError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function memorySource(bytes: Uint8Array, name = 'memory'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new FetchError(`${name}: read of ${length} bytes at ${offset} is outside the ${bytes.byteLength}-byte buffer`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

export type FetchLike = (input: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;

export interface HttpSourceOptions {
  /** 'auto' (default): Range requests when the server honours them, else one whole-body download. */
  mode?: 'auto' | 'range' | 'whole';
  fetch?: FetchLike;
  headers?: Record<string, string>;
}

function getFetch(f?: FetchLike): FetchLike {
  const g = f ?? (globalThis.fetch as FetchLike | undefined);
  if (!g) throw new FetchError('no fetch implementation available (pass options.fetch)');
  return g;
}

async function doFetch(f: FetchLike, url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await f(url, { headers });
  } catch (e) {
    throw new FetchError(`${url}: request failed (${(e as Error).message})`);
  }
}

/** Opens a URL as a byte source. With Range support only the requested bytes travel; otherwise the body is downloaded once. */
export async function httpSource(url: string, opts: HttpSourceOptions = {}): Promise<ByteSource> {
  const f = getFetch(opts.fetch);
  const base = opts.headers ?? {};
  const mode = opts.mode ?? 'auto';
  if (mode === 'whole') return wholeBody(url, await doFetch(f, url, base));
  const first = await doFetch(f, url, { ...base, Range: 'bytes=0-7' });
  if (first.status === 200) {
    if (mode === 'range') {
      await first.body?.cancel().catch(() => undefined);
      throw new FetchError(`${url}: server ignored the Range request (status 200), range mode unavailable`);
    }
    return wholeBody(url, first);
  }
  if (first.status !== 206) throw new FetchError(`${url}: HTTP ${first.status} ${first.statusText}`.trimEnd(), first.status);
  const total = /\/(\d+)\s*$/.exec(first.headers.get('content-range') ?? '');
  // Keep the probed bytes: the safetensors length prefix is exactly what a reader asks for first.
  const head = new Uint8Array(await first.arrayBuffer());
  if (!total) throw new FetchError(`${url}: 206 response without a Content-Range total size`);
  const size = Number(total[1]);
  return {
    name: url,
    size,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > size) throw new FetchError(`${url}: read of ${length} bytes at ${offset} is outside the ${size}-byte file`);
      if (length === 0) return new Uint8Array(0);
      if (offset + length <= head.byteLength) return head.slice(offset, offset + length);
      const r = await doFetch(f, url, { ...base, Range: `bytes=${offset}-${offset + length - 1}` });
      if (r.status !== 206) throw new FetchError(`${url}: expected 206 for a Range request, got HTTP ${r.status}`, r.status);
      const buf = new Uint8Array(await r.arrayBuffer());
      if (buf.byteLength !== length) throw new FetchError(`${url}: asked for ${length} bytes at ${offset}, got ${buf.byteLength} (file changed on the server?)`);
      return buf;
    },
  };
}

async function wholeBody(url: string, r: Response): Promise<ByteSource> {
  if (!r.ok) throw new FetchError(`${url}: HTTP ${r.status} ${r.statusText}`.trimEnd(), r.status);
  return memorySource(new Uint8Array(await r.arrayBuffer()), url);
}
