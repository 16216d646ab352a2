// Public surface of @duet/runtime: TensorFlow.js, backend selection, seeded randomness, memory accounting.
export { tf } from './tf.js';
export { initBackend, type BackendName, type BackendInfo, type InitBackendOptions } from './backend.js';
