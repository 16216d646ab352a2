// /v1/vqa: the model folder's fusion head (config.json `duet_fusion`, tensors `fusion.*`) run with TensorFlow.js
// (wasm) on the towers' token outputs — the ONNX export covers the contrastive towers only. Loaded on the first
// VQA request, so serving embeddings never waits for it; a folder without a head answers 400 no_fusion_head.
import { initBackend, tf } from '@duet/runtime';
import { loadModelFolder } from '@duet/model-format/node';
import { defaultPreprocessorConfig, ImageProcessor, TextTokenizer, type RawImage } from '@duet/preprocess';
import { textUsesAttentionMask } from '@duet/inference/node';
import { FUSION_CONFIG_KEY, loadVqaModel, type FusionType, type VqaModel } from '@duet/fusion';
import { ApiError } from './errors.js';

export interface VqaAnswer {
  head: FusionType;
  answer: string;
  probability: number;
  /** Best first. */
  answers: { answer: string; probability: number }[];
}

interface Loaded {
  model: VqaModel;
  tokenizer: TextTokenizer;
  imageProcessor: ImageProcessor;
  maxLength: number;
}

async function useWasm(): Promise<void> {
  try {
    await initBackend({ backend: 'wasm' });
  } catch (e) {
    // Module runners (vitest) cannot always resolve runtime's dynamic provider imports; the kernels are the same.
    if (!(await tf.setBackend('wasm'))) throw e;
    await tf.ready();
  }
}

export class VqaService {
  private loading?: Promise<Loaded>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly modelDir: string) {}

  private load(): Promise<Loaded> {
    this.loading ??= (async () => {
      const folder = await loadModelFolder(this.modelDir);
      if ((folder.config as Record<string, unknown>)[FUSION_CONFIG_KEY] === undefined) {
        throw new ApiError(400, 'no_fusion_head', `the loaded model has no fusion head (config.json has no "${FUSION_CONFIG_KEY}"), so it cannot answer questions; train one with \`duet train --task vqa\``);
      }
      if (!folder.tokenizerJson) throw new ApiError(503, 'model_unavailable', 'the model folder has no tokenizer.json');
      await useWasm();
      const model = await loadVqaModel(folder, { textTowerMask: textUsesAttentionMask(folder.config, folder.tokenizerConfig) });
      const tokenizer = TextTokenizer.fromJSON(folder.tokenizerJson as never, folder.tokenizerConfig as never, { modelConfig: folder.config });
      const pp = folder.preprocessorConfig ?? defaultPreprocessorConfig(model.encoder.lossFamily, folder.config.vision_config.image_size);
      return { model, tokenizer, imageProcessor: ImageProcessor.fromConfig(pp as never), maxLength: folder.config.text_config.max_position_embeddings };
    })();
    // A missing head is permanent; other failures (e.g. a transient read error) are retried on the next request.
    this.loading.catch((e: unknown) => {
      if (!(e instanceof ApiError && e.code === 'no_fusion_head')) this.loading = undefined;
    });
    return this.loading;
  }

  /** Whether the folder has a head (loads it). */
  async available(): Promise<boolean> {
    return this.load().then(() => true, () => false);
  }

  /** Answer probabilities for one image and question (one request at a time: tfjs runs synchronously anyway). */
  answer(image: RawImage, question: string, topK: number): Promise<VqaAnswer> {
    const run = this.queue.then(async () => {
      const { model, tokenizer, imageProcessor, maxLength } = await this.load();
      // Same layout as training: the question padded to the text tower's context length.
      const enc = tokenizer.encode([question], { maxLength, padding: 'max_length' });
      const px = imageProcessor.process([image]);
      const inputs = {
        pixelValues: tf.tensor4d(px.pixelValues, px.shape as [number, number, number, number]),
        inputIds: tf.tensor2d(enc.inputIds, [1, enc.shape[1]!], 'int32'),
        attentionMask: tf.tensor2d(enc.attentionMask, [1, enc.shape[1]!], 'int32'),
      };
      try {
        const { probabilities } = model.predict(inputs);
        const p = probabilities[0]!;
        const ranked = model.answerVocab.map((answer, i) => ({ answer, probability: p[i]! })).sort((a, b) => b.probability - a.probability);
        return { head: model.fusionConfig.type, answer: ranked[0]!.answer, probability: ranked[0]!.probability, answers: ranked.slice(0, topK) };
      } finally {
        tf.dispose(Object.values(inputs));
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    const l = await this.loading?.catch(() => undefined);
    l?.model.dispose();
  }
}
