// Public surface of @duet/retrieval-api: everything other packages may import.
export { createApp, type DuetApi } from './app.js';
export { startServer, type RunningServer } from './server.js';
export { DEFAULT_LIMITS, type AppOptions, type Limits } from './options.js';
export { MicroBatcher } from './batcher.js';
export { CollectionStore, COLLECTION_NAME, type Metadata } from './collections.js';
export { ApiError } from './errors.js';
export { openApiDocument } from './openapi.js';
export { requestSchemas, responseSchemas } from './schemas.js';
export { ensureBuiltinIndex, BUILTIN_INDEXES, type BuiltinIndex, type BuiltinOptions } from './builtin.js';
