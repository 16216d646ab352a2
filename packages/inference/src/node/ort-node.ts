// onnxruntime-node as an OrtModuleLike.
import * as ortNode from 'onnxruntime-node';
import type { OrtModuleLike } from '../runtime/ort-types.js';

export const ortNodeModule = ortNode as unknown as OrtModuleLike;
