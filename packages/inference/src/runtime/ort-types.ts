// The slice of the onnxruntime-common API Duet uses, so onnxruntime-node and onnxruntime-web plug in alike.

export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
  dispose?(): void;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly { name: string; type?: string; isTensor?: boolean; shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}

export interface OrtModuleLike {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike;
}

/** Which exported ONNX variant to load (transformers.js file suffixes). */
export type OnnxDtype = 'fp32' | 'fp16' | 'q8';

export const ONNX_SUFFIX: Record<OnnxDtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized' };

export function onnxFile(tower: 'text' | 'vision', dtype: OnnxDtype = 'fp32'): string {
  return `onnx/${tower}_model${ONNX_SUFFIX[dtype]}.onnx`;
}
