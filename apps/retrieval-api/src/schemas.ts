// Request and response schemas (zod): requests are validated with them, and the OpenAPI document is generated
// from the same schemas, so the document cannot drift from what the handlers accept and return.
import { z } from 'zod';
import type { Limits } from './options.js';

const metadata = z.record(z.string(), z.unknown()).describe('Free JSON object stored with the item and returned by searches');
const base64Image = z.string().min(1).describe('Base64-encoded image file (PNG, JPEG, WebP, ...); a data: URL is accepted');

export function requestSchemas(l: Limits) {
  const text = z.string().max(l.maxTextLength);
  const embedding = z.array(z.number().finite()).min(1).describe('Embedding vector (the model dim; normalised on use)');
  const k = z.coerce.number().int().min(1).max(l.maxK).default(10).describe(`Number of hits (1-${l.maxK}; at most the collection size are returned)`);
  return {
    embedTexts: z.object({ texts: z.array(text).min(1).max(l.maxTexts) }),
    embedImages: z.object({ images: z.array(base64Image).min(1).max(l.maxImages) }),
    classify: z.object({
      image: base64Image.optional().describe('Base64 image (or a multipart file field `image`)'),
      labels: z.array(z.string().trim().min(1).max(l.maxTextLength)).min(1).max(l.maxLabels),
      templates: z.array(z.string().min(1).max(l.maxTextLength)).min(1).max(l.maxTemplates).optional().describe("Prompt templates, '{}' = the label (default ['a photo of a {}.'])"),
    }),
    createCollection: z.object({ name: z.string() }),
    addItems: z.object({
      items: z.array(z.object({
        id: z.string().min(1).max(256),
        metadata: metadata.optional(),
        image: base64Image.optional(),
        text: text.min(1).optional(),
        embedding: embedding.optional(),
      })).min(1).max(l.maxItems).describe('Each item has exactly one of image, text or embedding (multipart: files `images` + field `items` as JSON, one entry per file)'),
    }),
    removeItems: z.object({ ids: z.array(z.string().min(1)).min(1).max(l.maxItems) }),
    search: z.object({
      text: text.min(1).optional(),
      image: base64Image.optional(),
      embedding: embedding.optional(),
      k,
    }).describe('Exactly one of text, image (or a multipart file `image`) or embedding'),
    vqa: z.object({
      image: base64Image.optional().describe('Base64 image (or a multipart file field `image`)'),
      question: text.trim().min(1).describe('A question about the image, e.g. "what color is the circle?"'),
      topK: z.coerce.number().int().min(1).max(100).default(5).describe('How many ranked answers to return'),
    }),
  };
}

const collectionInfo = z.object({ name: z.string(), size: z.number().int(), dim: z.number().int() });

export const responseSchemas = {
  error: z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
  embeddings: z.object({ model: z.string(), dim: z.number().int(), embeddings: z.array(z.array(z.number())).describe('L2-normalised, one row per input') }),
  classification: z.object({
    model: z.string(),
    lossFamily: z.enum(['clip', 'siglip']).describe('clip: softmax over labels; siglip: independent sigmoid per label'),
    results: z.array(z.object({ label: z.string(), probability: z.number(), logit: z.number() })).describe('Best first'),
  }),
  collection: collectionInfo,
  collections: z.object({ collections: z.array(collectionInfo) }),
  added: z.object({ added: z.number().int(), size: z.number().int() }),
  removed: z.object({ removed: z.number().int(), size: z.number().int() }),
  search: z.object({ results: z.array(z.object({ id: z.string(), score: z.number().describe('cosine similarity'), metadata: metadata.optional() })) }),
  vqa: z.object({
    model: z.string(),
    head: z.enum(['cross_attention', 'late_fusion']).describe('cross_attention: intermediate fusion over the towers\' tokens; late_fusion: MLP on pooled embeddings'),
    question: z.string(),
    answer: z.string().describe('The most probable answer of the fixed answer vocabulary'),
    probability: z.number(),
    answers: z.array(z.object({ answer: z.string(), probability: z.number() })).describe('Softmax over the answer vocabulary, best first (topK)'),
  }),
  health: z.object({ status: z.literal('ok') }),
  ready: z.object({
    ready: z.boolean(),
    golden: z.enum(['pending', 'passed', 'skipped', 'failed']),
    model: z.object({ name: z.string(), lossFamily: z.string(), dim: z.number().int(), imageSize: z.number().int(), maxTextTokens: z.number().int() }).optional(),
    error: z.string().optional(),
  }),
};
