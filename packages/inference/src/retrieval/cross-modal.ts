// Cross-modal retrieval on one embedding space: index images or texts, query with texts or images
// (text->image, image->image, image->text, text->text are the same operation on different indexes).
import type { RawImage } from '@duet/preprocess';
import type { Embedder } from '../runtime/embedder.js';
import { InferenceError } from '../runtime/errors.js';
import type { SearchHit } from './exact-index.js';

export interface SearchableIndex<M = unknown> {
  readonly dim: number;
  add(ids: string[], vectors: Float32Array, metadata?: (M | undefined)[]): void;
  search(queries: Float32Array, k: number): Promise<SearchHit<M>[][]>;
}

function checkDim(embedder: Embedder, index: SearchableIndex<unknown>): void {
  if (embedder.dim !== index.dim) throw new InferenceError(`index: dim ${index.dim} does not match the model's embedding width ${embedder.dim}`);
}

export async function indexImages<M>(embedder: Embedder, index: SearchableIndex<M>, ids: string[], images: RawImage[], metadata?: (M | undefined)[]): Promise<void> {
  checkDim(embedder, index);
  if (ids.length !== images.length) throw new InferenceError(`ids: expected one id per image (${images.length}), got ${ids.length}`);
  index.add(ids, (await embedder.embedImages(images)).data, metadata);
}

export async function indexTexts<M>(embedder: Embedder, index: SearchableIndex<M>, ids: string[], texts: string[], metadata?: (M | undefined)[]): Promise<void> {
  checkDim(embedder, index);
  if (ids.length !== texts.length) throw new InferenceError(`ids: expected one id per text (${texts.length}), got ${ids.length}`);
  index.add(ids, (await embedder.embedTexts(texts)).data, metadata);
}

/** Text queries against an index (of images: text->image; of texts: text->text). */
export async function searchByText<M>(embedder: Embedder, index: SearchableIndex<M>, texts: string[], k: number): Promise<SearchHit<M>[][]> {
  checkDim(embedder, index);
  if (texts.length === 0) throw new InferenceError('texts: expected at least one query');
  return index.search((await embedder.embedTexts(texts)).data, k);
}

/** Image queries against an index (of images: image->image; of texts: image->text). */
export async function searchByImage<M>(embedder: Embedder, index: SearchableIndex<M>, images: RawImage[], k: number): Promise<SearchHit<M>[][]> {
  checkDim(embedder, index);
  if (images.length === 0) throw new InferenceError('images: expected at least one query');
  return index.search((await embedder.embedImages(images)).data, k);
}
