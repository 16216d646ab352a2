// `duet embed`: text file / image folder / HF-layout safetensors of inputs -> safetensors of text_embeds/image_embeds
// (un-normalised like HF get_*_features unless --normalize).
import { Command, Option } from 'commander';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { tf, initBackend } from '@duet/runtime';
import { readSafetensors, writeSafetensors, toTypedArray, fromFloat32, type RawTensor } from '@duet/model-format';
import { decodeImage } from '@duet/preprocess/node';
import { openModel, writeFileAtomic } from '@duet/training';
import { int, BACKENDS } from './options.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export function embedCommand(): Command {
  return new Command('embed')
    .description('Embed texts and/or images with a model folder and write a safetensors file (text_embeds, image_embeds).')
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--input <path>', 'a text file (one caption per line), a folder of images, or a .safetensors file with input_ids/attention_mask/pixel_values (HF layout)')
    .requiredOption('--out <file>', 'output .safetensors file')
    .option('--normalize', 'L2-normalise the embeddings (default: un-normalised, as HF get_*_features)')
    .addOption(new Option('--engine <name>', 'inference engine').choices(['tfjs', 'onnx']).default('tfjs'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKENDS]).default('wasm'))
    .option('--batch-size <n>', 'batch size', int('--batch-size'), 64)
    .addHelpText('after', `
Examples:
  $ duet embed --model runs/tiny-siglip/model --input captions.txt --out text.safetensors
  $ duet embed --model runs/tiny-siglip/model --input ./photos --out images.safetensors --normalize
  $ duet embed --model ../shared/fixtures/hf-reference/tiny-clip --input inputs.safetensors --out embeds.safetensors`)
    .action(async (o: { model: string; input: string; out: string; normalize?: boolean; engine: string; backend: string; batchSize: number }) => {
      if (!existsSync(o.input)) throw new Error(`--input ${o.input}: no such file or directory`);
      const kind = statSync(o.input).isDirectory() ? 'images' : /\.safetensors$/i.test(o.input) ? 'tensors' : 'texts';
      // Read and check inputs before loading the model.
      let texts: string[] | undefined, imageFiles: string[] | undefined, tensors: Map<string, RawTensor> | undefined;
      if (kind === 'texts') {
        texts = readFileSync(o.input, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
        if (!texts.length) throw new Error(`--input ${o.input}: no non-empty lines`);
      } else if (kind === 'images') {
        imageFiles = readdirSync(o.input).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort().map((f) => join(o.input, f));
        if (!imageFiles.length) throw new Error(`--input ${o.input}: no image files (${[...IMAGE_EXT].join(', ')})`);
      } else {
        tensors = readSafetensors(new Uint8Array(readFileSync(o.input)), o.input).tensors;
        if (!tensors.has('input_ids') && !tensors.has('pixel_values')) throw new Error(`--input ${o.input}: expected input_ids (+ attention_mask) and/or pixel_values, found ${[...tensors.keys()].join(', ') || 'nothing'}`);
      }
      const out: Record<string, RawTensor> = {};
      if (o.engine === 'onnx') {
        await embedOnnx(o, { texts, imageFiles, tensors }, out);
        writeFileAtomic(o.out, writeSafetensors(out, { format: 'pt', normalized: String(Boolean(o.normalize)) }));
        process.stderr.write(`wrote ${Object.entries(out).map(([k, v]) => `${k} [${v.shape}]`).join(', ')} to ${o.out} (onnxruntime)\n`);
        return;
      }
      await initBackend({ backend: o.backend as never });
      const s = await openModel(o.model);
      const finish = (parts: tf.Tensor2D[]) => {
        const all = tf.tidy(() => {
          const x = tf.concat(parts) as tf.Tensor2D;
          return o.normalize ? tf.div(x, tf.norm(x, 'euclidean', -1, true)) : x;
        });
        tf.dispose(parts);
        const r = fromFloat32(all.dataSync() as Float32Array, all.shape);
        all.dispose();
        return r;
      };
      // The text tower sees the mask only where the model's convention says so (SigLIP: no mask, as in HF).
      const useMask = s.textUsesAttentionMask ?? true;
      const textBatches = (ids: Int32Array, mask: Int32Array, [b, l]: [number, number]) => {
        const parts: tf.Tensor2D[] = [];
        for (let i = 0; i < b; i += o.batchSize) {
          const n = Math.min(o.batchSize, b - i);
          parts.push(tf.tidy(() => s.model.encodeText(
            tf.tensor2d(ids.subarray(i * l, (i + n) * l), [n, l], 'int32'),
            useMask ? tf.tensor2d(mask.subarray(i * l, (i + n) * l), [n, l], 'int32') : undefined,
          )));
        }
        return finish(parts);
      };
      const pixelBatches = (px: Float32Array, shape: number[]) => {
        const [b, c, h, w] = shape as [number, number, number, number];
        const per = c * h * w;
        const parts: tf.Tensor2D[] = [];
        for (let i = 0; i < b; i += o.batchSize) {
          const n = Math.min(o.batchSize, b - i);
          parts.push(tf.tidy(() => s.model.encodeImage(tf.tensor4d(px.subarray(i * per, (i + n) * per), [n, c, h, w]))));
        }
        return finish(parts);
      };
      if (texts) {
        const enc = s.tokenizer.encode(texts);
        out['text_embeds'] = textBatches(enc.inputIds, enc.attentionMask, [enc.shape[0], enc.shape[1]]);
      } else if (imageFiles) {
        const parts: RawTensor[] = [];
        for (let i = 0; i < imageFiles.length; i += o.batchSize) {
          const imgs = [];
          for (const f of imageFiles.slice(i, i + o.batchSize)) {
            try { imgs.push(await decodeImage(f)); } catch (e) { throw new Error(`${f}: cannot decode image (${(e as Error).message})`); }
          }
          const p = s.imageProcessor.process(imgs);
          parts.push(pixelBatches(p.pixelValues, p.shape));
        }
        const dim = parts[0]!.shape[1]!;
        const all = new Float32Array(imageFiles.length * dim);
        let off = 0;
        for (const p of parts) { const a = toTypedArray(p) as Float32Array; all.set(a, off); off += a.length; }
        out['image_embeds'] = fromFloat32(all, [imageFiles.length, dim]);
      } else if (tensors) {
        const ids = tensors.get('input_ids');
        if (ids) {
          if (ids.shape.length !== 2) throw new Error(`input_ids: expected [B, L], got [${ids.shape}]`);
          const mask = tensors.get('attention_mask');
          const idsArr = Int32Array.from(toTypedArray(ids) as ArrayLike<number>);
          const maskArr = mask ? Int32Array.from(toTypedArray(mask) as ArrayLike<number>) : new Int32Array(idsArr.length).fill(1);
          if (mask && mask.shape.join() !== ids.shape.join()) throw new Error(`attention_mask: expected [${ids.shape}] like input_ids, got [${mask.shape}]`);
          out['text_embeds'] = textBatches(idsArr, maskArr, ids.shape as [number, number]);
        }
        const px = tensors.get('pixel_values');
        if (px) {
          if (px.shape.length !== 4 || px.shape[1] !== 3) throw new Error(`pixel_values: expected [B, 3, H, W], got [${px.shape}]`);
          out['image_embeds'] = pixelBatches(Float32Array.from(toTypedArray(px) as ArrayLike<number>), px.shape);
        }
      }
      writeFileAtomic(o.out, writeSafetensors(out, { format: 'pt', normalized: String(Boolean(o.normalize)) }));
      process.stderr.write(`wrote ${Object.entries(out).map(([k, v]) => `${k} [${v.shape}]`).join(', ')} to ${o.out}\n`);
    });
}

/** The same inputs through @duet/inference's onnxruntime-node embedder (needs onnx/ from `duet export --onnx`). */
async function embedOnnx(
  o: { model: string; normalize?: boolean; batchSize: number },
  inputs: { texts?: string[]; imageFiles?: string[]; tensors?: Map<string, RawTensor> },
  out: Record<string, RawTensor>,
): Promise<void> {
  const { createEmbedder, decodeImages } = await import('@duet/inference/node');
  const embedder = await createEmbedder(o.model, { engine: 'node', batchSize: o.batchSize });
  const opts = { normalize: Boolean(o.normalize) };
  const put = (key: string, e: { data: Float32Array; shape: [number, number] }) => (out[key] = fromFloat32(e.data, e.shape));
  try {
    if (inputs.texts) put('text_embeds', await embedder.embedTexts(inputs.texts, opts));
    if (inputs.imageFiles) put('image_embeds', await embedder.embedImages(await decodeImages(inputs.imageFiles), opts));
    const t = inputs.tensors;
    const ids = t?.get('input_ids');
    if (ids) {
      const mask = t!.get('attention_mask');
      put('text_embeds', await embedder.embedTokens({
        inputIds: Int32Array.from(toTypedArray(ids) as ArrayLike<number>),
        ...(mask ? { attentionMask: Int32Array.from(toTypedArray(mask) as ArrayLike<number>) } : {}),
        shape: [ids.shape[0]!, ids.shape[1]!],
      }, opts));
    }
    const px = t?.get('pixel_values');
    if (px) {
      put('image_embeds', await embedder.embedPixels({
        pixelValues: Float32Array.from(toTypedArray(px) as ArrayLike<number>), shape: px.shape as [number, number, number, number],
      }, opts));
    }
  } finally {
    await embedder.dispose();
  }
}
