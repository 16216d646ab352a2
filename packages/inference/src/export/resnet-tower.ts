// open_clip ModifiedResNet vision tower (placeholder until the encoders' weight names are fixed).
import type { ModelConfig } from '@duet/model-format';
import type { GraphBuilder } from './graph-builder.js';
import { ExportError, type Weights } from './weights.js';

export function buildResnetTower(_g: GraphBuilder, _w: Weights, _config: ModelConfig, _pixels: string): string {
  throw new ExportError('vision_config.duet_tower "resnet": ONNX export of the ResNet tower is not implemented yet');
}
