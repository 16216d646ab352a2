// Test support (`@duet/web-demo/testing`, Node): the trained tiny model the browser test and the benchmark use,
// and a PNG encoder for test images. Not part of the demo's API.
export { trainedModelFolder, DUET_BIN, WORKSPACE } from './test-util/trained-model.js';
export { encodePng } from './test-util/png.js';
