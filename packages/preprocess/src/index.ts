// Public surface of @duet/preprocess: everything other packages may import.
export { type RawImage, assertRawImage, toRgb, cropImage } from './image/raw-image.js';
export { resizeImage, computeCoefficients, pilResampleFilter, type ResampleFilter, type ResampleMode, type ResizeOptions, type Coefficients } from './image/resample.js';
export { resizeOutputSize } from './image/output-size.js';
export {
  type PreprocessorConfig, type SizeDict, type ImageTransformPlan, resolvePreprocessorConfig, normalizeSizeDict, defaultPreprocessorConfig,
  OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD,
} from './image/preprocessor-config.js';
export { ImageProcessor, centerCrop, type PixelBatch } from './image/image-processor.js';
export { TextTokenizer, type EncodeOptions, type TokenizedBatch } from './text/text-tokenizer.js';
export { type TokenizerConfig, type TextConventions, type TextModelConfigLike, type PaddingStrategy, resolveTextConventions } from './text/conventions.js';
export { type TextClean, cleanText, canonicalizeText, openClipCanonicalize, whitespaceClean, basicClean, removePunctuation, ASCII_PUNCTUATION } from './text/text-clean.js';
export { presetTokenizer, type PresetTokenizerFiles } from './text/preset-tokenizers.js';
export { randomResizedCrop, sampleCropBox, type RngLike, type RandomResizedCropOptions, type CropBox } from './augment/random-resized-crop.js';
export { colorJitter, type ColorJitterOptions } from './augment/color-jitter.js';
export { decodeImageBlob, type BlobDecodeOptions } from './decode/decode-blob.js';
