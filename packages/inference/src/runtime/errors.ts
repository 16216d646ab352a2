// Errors raised by @duet/inference: each names the input and what was expected.

export class InferenceError extends Error {
  override name = 'InferenceError';
}

/** The model folder has no ONNX export for the requested tower/variant. */
export class MissingOnnxError extends InferenceError {
  override name = 'MissingOnnxError';
  constructor(location: string, file: string) {
    super(`${location}: ${file} not found: this model folder has no ONNX export; run \`duet export --onnx ${location}\` first`);
  }
}

/** The folder's outputs do not match the golden values recorded at export (corrupted or mismatched files). */
export class GoldenCheckError extends InferenceError {
  override name = 'GoldenCheckError';
}
