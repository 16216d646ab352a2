// Public surface of @duet/data (Node-only): datasets, the training loader, and inspection/conversion tools.
export type { RawImage, Sample, ImageSource, DataRecord, Dataset, ReadContext } from './types.js';
export { SkipLog, type SkippedSample, type SkipReport } from './skip-log.js';
export { DataRng, hashSeed, type DataRngState } from './rng.js';
export { expandBraces, expandShardList } from './brace.js';
export { parseDelimited } from './csv.js';
export { csvDataset, type CsvDatasetOptions } from './csv-dataset.js';
export { webDataset, splitKey, IMAGE_EXTENSIONS, type WebDatasetOptions } from './webdataset.js';
export { fashionMnist, fashionMnistCaption, parseIdx, FASHION_MNIST_CLASSES, FASHION_MNIST_TEMPLATES, type FashionMnistOptions } from './fashion-mnist.js';
export {
  shapesDataset, shapesScene, renderShapes, relation, SHAPE_COLORS, SHAPE_KINDS, GRID_CELLS,
  type ShapesOptions, type ShapesScene, type PlacedShape, type QuestionAnswer, type QuestionType, type ShapeColor, type ShapeKind,
} from './shapes.js';
export { datasetDirCandidates, findDatasetDir, findWorkspaceRoot } from './find-data.js';
export { decodeImageSource, decodeImageBytes, probeImageSource, ImageDecodeError } from './decode.js';
export { createTransform, probeOutputSize, type ImageProcessorLike, type AugmentOptions, type TransformInit, type SampleTransform } from './image-transform.js';
export { createLoader, epochStartPosition, type Loader, type LoaderOptions, type LoaderPosition, type Batch, type TokenizerLike } from './loader.js';
export type { StreamSnapshot } from './shuffle-stream.js';
export { readSamples } from './samples.js';
export { folderDataset } from './folder-dataset.js';
export { openDataset, type OpenDatasetOptions } from './open-dataset.js';
export { inspectDataset, formatInspectReport, type InspectReport, type InspectOptions, type InspectProgress, type Stats } from './inspect.js';
export { convertToWebDataset, type ConvertOptions, type ConvertResult } from './convert.js';
