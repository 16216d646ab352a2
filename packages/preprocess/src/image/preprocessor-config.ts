// preprocessor_config.json (HF image processor fields, snake_case) and the class defaults transformers
// fills in for fields a file leaves out.
import { pilResampleFilter, type ResampleFilter, type ResampleMode } from './resample.js';

export type SizeDict = { shortest_edge?: number; longest_edge?: number; height?: number; width?: number; max_height?: number; max_width?: number };

/** The fields of CLIPImageProcessor / SiglipImageProcessor (other keys are preserved and ignored). */
export interface PreprocessorConfig {
  image_processor_type?: string;
  do_resize?: boolean | null;
  size?: SizeDict | number | [number, number] | null;
  resample?: number | string | null;
  do_center_crop?: boolean | null;
  crop_size?: SizeDict | number | [number, number] | null;
  do_rescale?: boolean | null;
  rescale_factor?: number | null;
  do_normalize?: boolean | null;
  image_mean?: number | number[] | null;
  image_std?: number | number[] | null;
  do_convert_rgb?: boolean | null;
  default_to_square?: boolean;
  [key: string]: unknown;
}

export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
export const IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5];
export const IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5];

type Defaults = Required<Pick<PreprocessorConfig, 'do_resize' | 'resample' | 'do_center_crop' | 'do_rescale' | 'rescale_factor' | 'do_normalize' | 'do_convert_rgb' | 'default_to_square'>> &
  Pick<PreprocessorConfig, 'size' | 'crop_size' | 'image_mean' | 'image_std'>;

const CLIP_DEFAULTS: Defaults = {
  do_resize: true, size: { shortest_edge: 224 }, resample: 3, do_center_crop: true, crop_size: { height: 224, width: 224 },
  do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: OPENAI_CLIP_MEAN, image_std: OPENAI_CLIP_STD,
  do_convert_rgb: true, default_to_square: false,
};
const SIGLIP_DEFAULTS: Defaults = {
  do_resize: true, size: { height: 224, width: 224 }, resample: 3, do_center_crop: false, crop_size: null,
  do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: IMAGENET_STANDARD_MEAN, image_std: IMAGENET_STANDARD_STD,
  do_convert_rgb: true, default_to_square: true,
};
/** BaseImageProcessor: every step off unless the file turns it on. */
const BASE_DEFAULTS: Defaults = {
  do_resize: false, size: null, resample: 2, do_center_crop: false, crop_size: null, do_rescale: false, rescale_factor: 1 / 255,
  do_normalize: false, image_mean: null, image_std: null, do_convert_rgb: false, default_to_square: true,
};

function classDefaults(type: string | undefined): Defaults {
  const t = (type ?? '').toLowerCase();
  if (t.startsWith('siglip')) return SIGLIP_DEFAULTS;
  if (t.startsWith('clip')) return CLIP_DEFAULTS;
  return BASE_DEFAULTS;
}

/** A fully resolved processing recipe (what the processor actually does). */
export interface ImageTransformPlan {
  resize: null | { size: SizeDict; filter: ResampleFilter };
  centerCrop: null | { height: number; width: number };
  rescaleFactor: number | null;
  normalize: null | { mean: number[]; std: number[] };
  convertRgb: boolean;
  resampleMode: ResampleMode;
}

const posInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`preprocessor_config: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
};

/** transformers' `get_size_dict`: ints become square or shortest-edge sizes, (h, w) pairs become height/width. */
export function normalizeSizeDict(size: unknown, defaultToSquare: boolean, what = 'size'): SizeDict {
  if (typeof size === 'number') return defaultToSquare ? { height: posInt(size, what), width: size } : { shortest_edge: posInt(size, what) };
  if (Array.isArray(size)) {
    if (size.length !== 2) throw new RangeError(`preprocessor_config: ${what} as a list must be [height, width], got ${JSON.stringify(size)}`);
    return { height: posInt(size[0], `${what}[0]`), width: posInt(size[1], `${what}[1]`) };
  }
  if (size && typeof size === 'object') {
    const s = size as Record<string, unknown>;
    const out: SizeDict = {};
    for (const k of ['shortest_edge', 'longest_edge', 'height', 'width', 'max_height', 'max_width'] as const) {
      if (s[k] != null) out[k] = posInt(s[k], `${what}.${k}`);
    }
    const ok = (out.height && out.width) || out.shortest_edge || (out.max_height && out.max_width) || out.longest_edge;
    if (!ok) throw new RangeError(`preprocessor_config: ${what} must have height+width, shortest_edge (+longest_edge), longest_edge or max_height+max_width; got ${JSON.stringify(size)}`);
    return out;
  }
  throw new TypeError(`preprocessor_config: ${what} must be a number, [height, width] or a size dict, got ${JSON.stringify(size)}`);
}

function perChannel(v: number | number[], what: string): number[] {
  const arr = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(arr) || arr.length === 0 || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new TypeError(`preprocessor_config: ${what} must be a number or a list of numbers, got ${JSON.stringify(v)}`);
  }
  return arr;
}

/**
 * Resolves a preprocessor_config.json into the steps to run, filling absent fields with the defaults of
 * its `image_processor_type`. The resize arithmetic follows the backend transformers (v5) picks for that
 * type: `*Pil` classes use Pillow, the others torchvision's uint8 antialias kernel (bit-exact with the
 * reference pixel_values of CLIPImageProcessor / SiglipImageProcessor).
 */
export function resolvePreprocessorConfig(config: PreprocessorConfig, opts: { resampleMode?: ResampleMode } = {}): ImageTransformPlan {
  if (config == null || typeof config !== 'object' || Array.isArray(config)) throw new TypeError(`preprocessor_config: expected a JSON object, got ${JSON.stringify(config)}`);
  const d = classDefaults(config.image_processor_type);
  const pick = <K extends keyof Defaults>(k: K): Defaults[K] => (config[k] ?? d[k]) as Defaults[K];
  const defaultToSquare = typeof config.default_to_square === 'boolean' ? config.default_to_square : d.default_to_square;
  const type = config.image_processor_type ?? '';
  const resampleMode = opts.resampleMode ?? (/Pil$/.test(type) ? 'pil' : 'torchvision');

  let resize: ImageTransformPlan['resize'] = null;
  if (pick('do_resize')) {
    const size = pick('size');
    if (size == null) throw new RangeError('preprocessor_config: do_resize is true but no size is given');
    resize = { size: normalizeSizeDict(size, defaultToSquare), filter: pilResampleFilter(pick('resample') ?? 2) };
  }
  let centerCrop: ImageTransformPlan['centerCrop'] = null;
  if (pick('do_center_crop')) {
    const cs = pick('crop_size');
    if (cs == null) throw new RangeError('preprocessor_config: do_center_crop is true but no crop_size is given');
    const c = normalizeSizeDict(cs, true, 'crop_size');
    if (!c.height || !c.width) throw new RangeError(`preprocessor_config: crop_size needs height and width, got ${JSON.stringify(cs)}`);
    centerCrop = { height: c.height, width: c.width };
  }
  let rescaleFactor: number | null = null;
  if (pick('do_rescale')) {
    const f = pick('rescale_factor');
    if (typeof f !== 'number' || !Number.isFinite(f)) throw new TypeError(`preprocessor_config: rescale_factor must be a number, got ${JSON.stringify(f)}`);
    rescaleFactor = f;
  }
  let normalize: ImageTransformPlan['normalize'] = null;
  if (pick('do_normalize')) {
    const mean = pick('image_mean'), std = pick('image_std');
    if (mean == null || std == null) throw new RangeError('preprocessor_config: do_normalize is true but image_mean/image_std are missing');
    const m = perChannel(mean, 'image_mean'), s = perChannel(std, 'image_std');
    if (s.some((x) => x === 0)) throw new RangeError(`preprocessor_config: image_std must be non-zero, got ${JSON.stringify(std)}`);
    normalize = { mean: m, std: s };
  }
  return { resize, centerCrop, rescaleFactor, normalize, convertRgb: !!pick('do_convert_rgb'), resampleMode };
}

/** The preprocessor_config.json Duet writes for a preset of the given family and square image size. */
export function defaultPreprocessorConfig(family: 'clip' | 'siglip', imageSize: number): PreprocessorConfig {
  posInt(imageSize, 'imageSize');
  if (family === 'clip') {
    return {
      image_processor_type: 'CLIPImageProcessor', do_convert_rgb: true, do_resize: true, size: { shortest_edge: imageSize }, resample: 3,
      do_center_crop: true, crop_size: { height: imageSize, width: imageSize }, do_rescale: true, rescale_factor: 1 / 255,
      do_normalize: true, image_mean: [...OPENAI_CLIP_MEAN], image_std: [...OPENAI_CLIP_STD],
    };
  }
  if (family === 'siglip') {
    return {
      image_processor_type: 'SiglipImageProcessor', do_convert_rgb: true, do_resize: true, size: { height: imageSize, width: imageSize }, resample: 3,
      do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [...IMAGENET_STANDARD_MEAN], image_std: [...IMAGENET_STANDARD_STD],
    };
  }
  throw new RangeError(`defaultPreprocessorConfig: family must be 'clip' or 'siglip', got ${JSON.stringify(family)}`);
}
