// The demo's static server (Node): the built page, the model folder under /models/<name>/ (with HTTP Range for
// model.safetensors), an optional packed gallery under /gallery/, and /demo-config.json telling the page both URLs.
// Loopback by default; only GET/HEAD; paths are confined to their roots.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { RawImage } from '@duet/preprocess';
import { buildDemo } from './build.js';
import { encodeGallery } from './gallery.js';

export interface DemoGalleryInput {
  name: string;
  images: RawImage[];
  /** Class index per image + the class names (e.g. Fashion-MNIST). */
  labels?: { labels: number[]; classNames: string[] };
}

export interface DemoServerOptions {
  /** Model folder to serve (config.json, tokenizer, preprocessor, onnx/). */
  modelDir: string;
  port?: number;
  host?: string;
  gallery?: DemoGalleryInput;
  /** A built demo (default: build into apps/web-demo/dist/web when missing or stale). */
  distDir?: string;
  log?: (m: string) => void;
}

export interface RunningDemo {
  url: string;
  server: Server;
  modelUrl: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream', '.safetensors': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8', '.bin': 'application/octet-stream',
};

/** root + url path, or undefined when it escapes root or is not a file. */
function fileUnder(root: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  const abs = resolve(root, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
  if (abs !== root && !abs.startsWith(root + sep)) return undefined;
  return existsSync(abs) && statSync(abs).isFile() ? abs : undefined;
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}

function sendBytes(req: IncomingMessage, res: ServerResponse, body: Uint8Array | string, type: string): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  res.writeHead(200, { 'content-type': type, 'content-length': buf.length, 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

/** Streams a file; honours a single `Range: bytes=a-b` (what lazy safetensors reads ask for). */
function sendFile(req: IncomingMessage, res: ServerResponse, path: string, cache: string): void {
  const size = statSync(path).size;
  const type = MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const headers: Record<string, string | number> = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': cache };
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (m && (m[1] || m[2])) {
    start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
    end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) return void res.end();
  createReadStream(path, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/** URL-safe name of the model folder (its directory name). */
export function modelSlug(modelDir: string): string {
  return basename(resolve(modelDir)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'model';
}

/** Starts the demo server; resolves once listening (building the page first when needed). */
export async function startDemoServer(opts: DemoServerOptions): Promise<RunningDemo> {
  const modelDir = resolve(opts.modelDir);
  if (!existsSync(join(modelDir, 'config.json'))) throw new Error(`--model ${opts.modelDir}: not a model folder (no config.json)`);
  if (!existsSync(join(modelDir, 'onnx', 'text_model.onnx')) || !existsSync(join(modelDir, 'onnx', 'vision_model.onnx'))) {
    throw new Error(`--model ${opts.modelDir}: no ONNX towers (onnx/text_model.onnx, onnx/vision_model.onnx); run duet export --onnx first`);
  }
  const distDir = resolve(opts.distDir ?? (await buildDemo({ log: opts.log })).outDir);
  if (!existsSync(join(distDir, 'index.html'))) throw new Error(`${distDir}: no built demo (index.html missing)`);
  const slug = modelSlug(modelDir);
  const modelPrefix = `/models/${slug}/`;
  const packed = opts.gallery ? encodeGallery(opts.gallery.name, opts.gallery.images, opts.gallery.labels) : undefined;
  const config = JSON.stringify({
    modelUrl: modelPrefix,
    ...(packed ? { gallery: { header: './gallery/gallery.json', data: './gallery/gallery.bin' } } : {}),
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, `${req.method}: only GET and HEAD are served`);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/demo-config.json') return sendBytes(req, res, config, MIME['.json']!);
    if (path === '/gallery/gallery.json' && packed) return sendBytes(req, res, JSON.stringify(packed.header), MIME['.json']!);
    if (path === '/gallery/gallery.bin' && packed) return sendBytes(req, res, packed.bytes, MIME['.bin']!);
    if (path.startsWith(modelPrefix)) {
      const f = fileUnder(modelDir, path.slice(modelPrefix.length - 1));
      return f ? sendFile(req, res, f, 'no-cache') : sendError(res, 404, `${path}: not in the model folder`);
    }
    const f = fileUnder(distDir, path === '/' ? '/index.html' : path);
    if (!f) return sendError(res, 404, `${path}: not found`);
    sendFile(req, res, f, path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent) sendError(res, 500, (e as Error).message);
      else res.destroy();
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url, server, modelUrl: new URL(modelPrefix, url).href,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}
