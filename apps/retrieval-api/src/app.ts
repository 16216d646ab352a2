// The express app: /v1 endpoints (embed, classify, collections), health/readiness, metrics, OpenAPI.
import { timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import multer, { MulterError } from 'multer';
import { InferenceError, ZeroShotClassifier, type ZeroShotEmbedder } from '@duet/inference/node';
import { z } from 'zod';
import { ensureBuiltinIndex } from './builtin.js';
import { CollectionStore, type Metadata } from './collections.js';
import { ApiError, errorHandler, zodMessage } from './errors.js';
import { base64Bytes, collectImages, decodeChecked } from './images.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ModelService } from './model-service.js';
import { openApiDocument } from './openapi.js';
import { DEFAULT_LIMITS, type AppOptions, type Limits } from './options.js';
import { requestSchemas } from './schemas.js';
import { VqaService } from './vqa-service.js';

export interface DuetApi {
  app: Express;
  model: ModelService;
  metrics: Metrics;
  limits: Limits;
  /** Resolves when the model and the collections are loaded (never rejects; see /readyz). */
  ready: Promise<void>;
  /** Resolves when the built-in collections are built (after `ready`; failures are logged). */
  builtinsReady: Promise<void>;
  /** The collection store (after `ready`). */
  store(): CollectionStore;
  close(): Promise<void>;
}

function parse<T extends z.ZodType>(schema: T, data: unknown): z.output<T> {
  if (data === undefined) throw new ApiError(415, 'unsupported_media_type', 'expected a JSON body (Content-Type: application/json) or multipart/form-data');
  const r = schema.safeParse(data);
  if (!r.success) {
    const tooBig = r.error.issues.some((i) => i.code === 'too_big');
    throw new ApiError(tooBig ? 413 : 400, tooBig ? 'limit_exceeded' : 'invalid_request', zodMessage(r.error));
  }
  return r.data;
}

/** A multipart field holding a list: a JSON array string, or the field repeated. */
function formList(v: unknown, what: string): unknown {
  if (v === undefined || Array.isArray(v)) return v;
  if (typeof v === 'string' && v.trim().startsWith('[')) {
    try {
      return JSON.parse(v);
    } catch {
      throw new ApiError(400, 'invalid_request', `${what}: not a valid JSON array`);
    }
  }
  return [v];
}

const isMultipart = (req: Request): boolean => req.is('multipart/form-data') === 'multipart/form-data';

function concat(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

export function createApp(opts: AppOptions): DuetApi {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.log ?? ((): void => undefined);
  const S = requestSchemas(limits);
  let store: CollectionStore | undefined;
  let storeError: string | undefined;
  // The gauges read model/store lazily (at scrape time, after both exist).
  const metrics: Metrics = createMetrics(() => store?.list() ?? [], () => model.ready && store !== undefined);
  const model = new ModelService(opts.modelDir, {
    verify: opts.verify ?? true,
    waitMs: opts.batching?.waitMs ?? 5,
    maxBatch: opts.batching?.maxBatch ?? 64,
    onBatch: (tower, rows, requests) => {
      metrics.batchRows.observe({ tower }, rows);
      metrics.batchRequests.observe({ tower }, requests);
    },
  });
  const vqa = new VqaService(opts.modelDir);
  const ready = model.loaded.then(async () => {
    if (!model.info) return;
    const s = new CollectionStore(opts.dataDir, model.info.dim, log);
    try {
      await s.load();
      store = s;
    } catch (e) {
      storeError = `collections: ${(e as Error).message}`;
      log(storeError);
    }
  });
  const builtinsReady = ready.then(async () => {
    for (const name of opts.builtinIndexes ?? []) {
      if (!store) return;
      await ensureBuiltinIndex(name, model, store, { ...opts.builtin, log }).catch((e: Error) => log(`${name}: not built (${e.message})`));
    }
  });
  const stores = async (): Promise<CollectionStore> => {
    await model.require();
    await ready;
    if (!store) throw new ApiError(503, 'collections_unavailable', storeError ?? 'collections are not loaded');
    return store;
  };
  let logitParams: Promise<{ logitScale: number; logitBias?: number }> | undefined;
  const zeroShotEmbedder = async (): Promise<ZeroShotEmbedder> => {
    const emb = await model.require();
    logitParams ??= emb.logitParams();
    return {
      lossFamily: emb.lossFamily,
      dim: emb.dim,
      embedTexts: async (texts) => ({ data: concat(await model.embedTexts(texts), emb.dim), shape: [texts.length, emb.dim] }),
      logitParams: () => logitParams!,
    };
  };

  // Class embeddings per (labels, templates), most recently used kept: repeated label sets skip the text tower.
  const classifiers = new Map<string, Promise<ZeroShotClassifier>>();
  const classifier = (labels: string[], templates?: string[]): Promise<ZeroShotClassifier> => {
    const key = JSON.stringify([labels, templates ?? null]);
    let p = classifiers.get(key);
    if (p) classifiers.delete(key);
    else p = zeroShotEmbedder().then((e) => ZeroShotClassifier.create(e, labels, templates ? { templates } : {}));
    classifiers.set(key, p);
    p.catch(() => classifiers.delete(key));
    if (classifiers.size > 64) classifiers.delete(classifiers.keys().next().value!);
    return p;
  };
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxImageBytes, files: limits.maxImages, fields: 32, fieldSize: limits.maxBodyBytes, parts: limits.maxImages + 32 },
  });
  // busboy's parse errors (truncated or malformed multipart) are client errors, not ours.
  // The body limit applies to multipart too (multer only bounds each part).
  /** The request's image: the multipart file "image", or the JSON body's base64 `image`. */
  const imageBytes = (req: Request, multi: boolean, base64: string | undefined): Uint8Array => {
    if (multi) {
      if (!req.file) throw new ApiError(400, 'invalid_request', 'image: expected a file in the multipart field "image"');
      return new Uint8Array(req.file.buffer);
    }
    if (!base64) throw new ApiError(400, 'invalid_request', 'image: required (base64 string)');
    return base64Bytes(base64, 'image', limits);
  };
  const multipart = (mw: RequestHandler): RequestHandler => (req, res, next) => {
    const length = Number(req.get('content-length') ?? 0);
    if (length > limits.maxBodyBytes) return next(new ApiError(413, 'payload_too_large', `request body: ${length} bytes exceeds the limit of ${limits.maxBodyBytes}`));
    mw(req, res, (err?: unknown) => {
      if (err === undefined || err instanceof MulterError || err instanceof ApiError) return next(err);
      next(new ApiError(400, 'invalid_multipart', `body: malformed multipart/form-data (${(err as Error)?.message ?? String(err)})`));
    });
  };
  const requireKey: RequestHandler = (req, res, next) => {
    if (!opts.apiKey) return next();
    const got = Buffer.from(req.get('authorization') ?? '');
    const want = Buffer.from(`Bearer ${opts.apiKey}`);
    if (got.length === want.length && timingSafeEqual(got, want)) return next();
    res.set('WWW-Authenticate', 'Bearer');
    next(new ApiError(401, 'unauthorized', 'this endpoint needs Authorization: Bearer <api key>'));
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(metrics.middleware);
  if (opts.cors) app.use(cors({ origin: opts.cors === true ? true : opts.cors }));
  app.use(express.json({ limit: limits.maxBodyBytes }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ok = model.ready && store !== undefined;
    const error = model.loadError ?? storeError;
    res.status(ok ? 200 : 503).json({ ready: ok, golden: model.golden, ...(model.info ? { model: model.info } : {}), ...(error ? { error } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const doc = openApiDocument(limits, { secured: Boolean(opts.apiKey) });
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });

  const v1 = express.Router();
  if (opts.rateLimit !== false) {
    const rl = opts.rateLimit ?? { windowMs: 60_000, limit: 600 };
    v1.use(rateLimit({
      windowMs: rl.windowMs, limit: rl.limit, standardHeaders: 'draft-8', legacyHeaders: false,
      handler: (_req, res) => {
        res.status(429).json({ error: { code: 'rate_limited', message: `too many requests: at most ${rl.limit} per ${rl.windowMs} ms` } });
      },
    }));
  }

  v1.post('/embed/text', async (req, res) => {
    const { texts } = parse(S.embedTexts, req.body);
    const emb = await model.embedTexts(texts);
    res.json({ model: model.info!.name, dim: model.info!.dim, embeddings: emb.map((v) => Array.from(v)) });
  });

  v1.post('/embed/image', multipart(upload.array('images', limits.maxImages)), async (req, res) => {
    const files = req.files as Express.Multer.File[] | undefined;
    let images;
    if (isMultipart(req)) {
      if (!files?.length) throw new ApiError(400, 'invalid_request', 'images: expected at least one file in the multipart field "images"');
      images = await collectImages(files, undefined, limits);
    } else {
      images = await collectImages(undefined, parse(S.embedImages, req.body).images, limits);
    }
    const emb = await model.embedImages(images);
    res.json({ model: model.info!.name, dim: model.info!.dim, embeddings: emb.map((v) => Array.from(v)) });
  });

  v1.post('/classify', multipart(upload.single('image')), async (req, res) => {
    const multi = isMultipart(req);
    const raw = multi ? { labels: formList(req.body?.labels, 'labels'), templates: formList(req.body?.templates, 'templates') } : req.body;
    const body = parse(S.classify, raw);
    const bytes = imageBytes(req, multi, body.image);
    const prompts = body.labels.length * (body.templates?.length ?? 1);
    if (prompts > limits.maxLabels) throw new ApiError(413, 'limit_exceeded', `labels x templates: ${prompts} prompts exceeds the limit of ${limits.maxLabels}`);
    const image = await decodeChecked(bytes, 'image', limits);
    const clf = await classifier(body.labels, body.templates);
    const [imageEmbeds] = await model.embedImages([image]);
    const [r] = clf.classifyEmbeds(imageEmbeds!);
    res.json({
      model: model.info!.name,
      lossFamily: clf.family,
      results: r!.ranked.map((x) => ({ label: x.label, probability: x.probability, logit: x.logit })),
    });
  });

  v1.post('/vqa', multipart(upload.single('image')), async (req, res) => {
    const multi = isMultipart(req);
    const body = parse(S.vqa, multi ? { question: req.body?.question, topK: req.body?.topK } : req.body);
    const bytes = imageBytes(req, multi, body.image);
    await model.require();
    const image = await decodeChecked(bytes, 'image', limits);
    const r = await vqa.answer(image, body.question, body.topK);
    res.json({ model: model.info!.name, head: r.head, question: body.question, answer: r.answer, probability: r.probability, answers: r.answers });
  });

  v1.get('/collections', async (_req, res) => {
    res.json({ collections: (await stores()).list() });
  });
  v1.post('/collections', requireKey, async (req, res) => {
    const { name } = parse(S.createCollection, req.body);
    const c = await (await stores()).create(name);
    res.status(201).json({ name, size: c.size, dim: c.dim });
  });
  v1.get('/collections/:name', async (req, res) => {
    const c = (await stores()).get(req.params.name as string);
    res.json({ name: req.params.name, size: c.size, dim: c.dim });
  });
  v1.delete('/collections/:name', requireKey, async (req, res) => {
    await (await stores()).drop(req.params.name as string);
    res.status(204).end();
  });

  v1.post('/collections/:name/items', requireKey, multipart(upload.array('images', limits.maxImages)), async (req, res) => {
    const s = await stores();
    const name = req.params.name as string;
    const c = s.get(name);
    const dim = c.dim;
    let ids: string[];
    let meta: (Metadata | undefined)[];
    let vectors: Float32Array;
    if (isMultipart(req)) {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      const items = parse(z.object({ items: z.array(z.object({ id: z.string().min(1).max(256), metadata: z.record(z.string(), z.unknown()).optional() })).min(1).max(limits.maxItems) }), { items: formList(req.body?.items, 'items') }).items;
      if (items.length !== files.length) throw new ApiError(400, 'invalid_request', `items: expected one entry per file in "images" (${files.length}), got ${items.length}`);
      ids = items.map((i) => i.id);
      meta = items.map((i) => i.metadata);
      checkIds(ids, (id) => c.exact.has(id));
      vectors = concat(await model.embedImages(await collectImages(files, undefined, limits)), dim);
    } else {
      const { items } = parse(S.addItems, req.body);
      items.forEach((it, i) => {
        const n = Number(it.image !== undefined) + Number(it.text !== undefined) + Number(it.embedding !== undefined);
        if (n !== 1) throw new ApiError(400, 'invalid_request', `items.${i}: expected exactly one of image, text or embedding, got ${n}`);
        if (it.embedding) checkEmbedding(it.embedding, dim, `items.${i}.embedding`);
      });
      ids = items.map((i) => i.id);
      meta = items.map((i) => i.metadata);
      checkIds(ids, (id) => c.exact.has(id));
      const rows: Float32Array[] = new Array(items.length);
      const imgAt = items.flatMap((it, i) => (it.image !== undefined ? [i] : []));
      const txtAt = items.flatMap((it, i) => (it.text !== undefined ? [i] : []));
      const images = [];
      for (const i of imgAt) images.push(await decodeChecked(base64Bytes(items[i]!.image!, `items.${i}.image`, limits), `items.${i}.image`, limits));
      const [imgEmb, txtEmb] = await Promise.all([model.embedImages(images), model.embedTexts(txtAt.map((i) => items[i]!.text!))]);
      imgAt.forEach((i, j) => (rows[i] = imgEmb[j]!));
      txtAt.forEach((i, j) => (rows[i] = txtEmb[j]!));
      items.forEach((it, i) => {
        if (it.embedding) rows[i] = Float32Array.from(it.embedding);
      });
      vectors = concat(rows, dim);
    }
    const size = await s.mutate(name, (col) => {
      try {
        col.add(ids, vectors, meta);
      } catch (e) {
        if (e instanceof InferenceError) throw new ApiError(409, 'duplicate_id', e.message);
        throw e;
      }
      return col.size;
    });
    res.status(201).json({ added: ids.length, size });
  });

  v1.delete('/collections/:name/items', requireKey, async (req, res) => {
    const { ids } = parse(S.removeItems, req.body);
    const s = await stores();
    const out = await s.mutate(req.params.name as string, (col) => ({ removed: col.remove(ids), size: col.size }));
    res.json(out);
  });

  v1.post('/collections/:name/search', multipart(upload.single('image')), async (req, res) => {
    const s = await stores();
    const name = req.params.name as string;
    const c = s.get(name);
    let query: Float32Array;
    let k: number;
    if (isMultipart(req)) {
      k = parse(z.object({ k: S.search.shape.k }), { k: req.body?.k }).k;
      if (!req.file) throw new ApiError(400, 'invalid_request', 'image: expected a file in the multipart field "image"');
      query = (await model.embedImages([await decodeChecked(new Uint8Array(req.file.buffer), 'image', limits)]))[0]!;
    } else {
      const body = parse(S.search, req.body);
      k = body.k;
      const n = Number(body.text !== undefined) + Number(body.image !== undefined) + Number(body.embedding !== undefined);
      if (n !== 1) throw new ApiError(400, 'invalid_request', `expected exactly one of text, image or embedding, got ${n}`);
      if (body.text !== undefined) query = (await model.embedTexts([body.text]))[0]!;
      else if (body.image !== undefined) query = (await model.embedImages([await decodeChecked(base64Bytes(body.image, 'image', limits), 'image', limits)]))[0]!;
      else {
        checkEmbedding(body.embedding!, c.dim, 'embedding');
        query = Float32Array.from(body.embedding!);
      }
    }
    const [hits] = await s.search(name, query, k);
    res.json({ results: hits!.map((h) => (h.metadata === undefined ? { id: h.id, score: h.score } : { id: h.id, score: h.score, metadata: h.metadata })) });
  });

  app.use('/v1', v1);
  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `${req.method} ${req.path}: no such endpoint`)));
  app.use(errorHandler(log));

  return {
    app, model, metrics, limits, ready, builtinsReady,
    store: () => {
      if (!store) throw new Error('collections are not loaded yet (await ready)');
      return store;
    },
    close: async () => {
      await builtinsReady;
      await model.dispose();
      await vqa.dispose();
    },
  };
}

function checkEmbedding(v: number[], dim: number, what: string): void {
  if (v.length !== dim) throw new ApiError(400, 'dimension_mismatch', `${what}: expected ${dim} values (the model dim), got ${v.length}`);
  if (!v.some((x) => x !== 0)) throw new ApiError(400, 'invalid_embedding', `${what}: the zero vector has no direction (cosine similarity is undefined)`);
}

function checkIds(ids: string[], exists: (id: string) => boolean): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new ApiError(409, 'duplicate_id', `ids: "${id}" appears twice in the request`);
    if (exists(id)) throw new ApiError(409, 'duplicate_id', `ids: "${id}" is already in the collection (remove it first)`);
    seen.add(id);
  }
}
