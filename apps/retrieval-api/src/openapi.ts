// The OpenAPI 3.1 document, generated from the zod schemas the handlers use.
import { z } from 'zod';
import type { Limits } from './options.js';
import { requestSchemas, responseSchemas } from './schemas.js';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

export function openApiDocument(limits: Limits, opts: { secured: boolean }): Json {
  const req = requestSchemas(limits);
  const components: Json = {};
  for (const [k, s] of Object.entries(responseSchemas)) components[k] = schema(s, 'output');
  const ref = (name: keyof typeof responseSchemas) => ({ $ref: `#/components/schemas/${name}` });
  const json = (s: Json) => ({ content: { 'application/json': { schema: s } } });
  const errors = (codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', ...json(ref('error')) }]));
  const ok = (name: keyof typeof responseSchemas, status = 200, description = 'OK'): Json => ({ [String(status)]: { description, ...json(ref(name)) } });
  const body = (s: z.ZodType, multipart?: Json): Json => ({
    required: true,
    content: { 'application/json': { schema: schema(s, 'input') }, ...(multipart ? { 'multipart/form-data': { schema: multipart } } : {}) },
  });
  const file = { type: 'string', format: 'binary' };
  const write = opts.secured ? { security: [{ bearer: [] }] } : {};
  const name = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' } };
  const common = [400, 413, 415, 429, 503];
  return {
    openapi: '3.1.0',
    info: { title: 'Duet retrieval API', version: '1.0.0', description: 'Embeddings, zero-shot classification and image/text retrieval with a Duet CLIP/SigLIP model folder.' },
    components: { schemas: components, ...(opts.secured ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}) },
    paths: {
      '/healthz': { get: { summary: 'Liveness', responses: ok('health') } },
      '/readyz': { get: { summary: 'Model loaded and golden check passed', responses: { ...ok('ready'), '503': { description: 'Not ready', ...json(ref('ready')) } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', ...json({ type: 'object' }) } } } },
      '/v1/embed/text': { post: { summary: 'Embed texts', requestBody: body(req.embedTexts), responses: { ...ok('embeddings'), ...errors(common) } } },
      '/v1/embed/image': {
        post: {
          summary: 'Embed images (multipart files `images`, or base64 JSON)',
          requestBody: body(req.embedImages, { type: 'object', properties: { images: { type: 'array', items: file, maxItems: limits.maxImages } }, required: ['images'] }),
          responses: { ...ok('embeddings'), ...errors(common) },
        },
      },
      '/v1/classify': {
        post: {
          summary: 'Zero-shot classify an image against labels (+ templates)',
          requestBody: body(req.classify, { type: 'object', properties: { image: file, labels: { type: 'string', description: 'JSON array, or the field repeated' }, templates: { type: 'string' } }, required: ['image', 'labels'] }),
          responses: { ...ok('classification'), ...errors(common) },
        },
      },
      '/v1/vqa': {
        post: {
          summary: 'Answer a question about an image (needs a model folder with a fusion head; 400 no_fusion_head otherwise)',
          requestBody: body(req.vqa, { type: 'object', properties: { image: file, question: { type: 'string' }, topK: { type: 'integer' } }, required: ['image', 'question'] }),
          responses: { ...ok('vqa'), ...errors(common) },
        },
      },
      '/v1/collections': {
        get: { summary: 'List collections', responses: { ...ok('collections'), ...errors([429]) } },
        post: { summary: 'Create a collection', ...write, requestBody: body(req.createCollection), responses: { ...ok('collection', 201, 'Created'), ...errors([400, 401, 409, 415, 429]) } },
      },
      '/v1/collections/{name}': {
        parameters: [name],
        get: { summary: 'Collection info', responses: { ...ok('collection'), ...errors([404, 429]) } },
        delete: { summary: 'Delete a collection', ...write, responses: { '204': { description: 'Deleted' }, ...errors([401, 404, 429]) } },
      },
      '/v1/collections/{name}/items': {
        parameters: [name],
        post: {
          summary: 'Add items (image, text or precomputed embedding + metadata)', ...write,
          requestBody: body(req.addItems, { type: 'object', properties: { images: { type: 'array', items: file }, items: { type: 'string', description: 'JSON array of { id, metadata? }, one per file' } }, required: ['images', 'items'] }),
          responses: { ...ok('added', 201, 'Added'), ...errors([...common, 401, 404, 409]) },
        },
        delete: { summary: 'Remove items by id (unknown ids are ignored)', ...write, requestBody: body(req.removeItems), responses: { ...ok('removed'), ...errors([400, 401, 404, 413, 415, 429]) } },
      },
      '/v1/collections/{name}/search': {
        parameters: [name],
        post: {
          summary: 'Top-k search by text, image or embedding',
          requestBody: body(req.search, { type: 'object', properties: { image: file, k: { type: 'integer' } }, required: ['image'] }),
          responses: { ...ok('search'), ...errors([...common, 404]) },
        },
      },
    },
  };
}
