// Test support (`@duet/retrieval-api/testing`): a servable tiny model folder built from the HF fixtures, for
// tests and benchmarks. Not part of the serving API.
export { makeTestModelFolder, TEST_IMAGES, HF_REF } from './test-util/model-folder.js';
export { greyPng } from './test-util/png.js';
