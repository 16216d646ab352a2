// Node-only surface of @duet/model-format: everything isomorphic, plus file-system loading and atomic saving.
// loadModelFolder here takes a directory path (or a URL) and reads tensors lazily from disk.
export * from './index.js';
export { loadModelFolder, fsFolderFiles } from './fs/load-folder.js';
export { fileSource, openSafetensors } from './fs/file-source.js';
export { writeFileAtomic } from './fs/atomic.js';
export { writeSafetensorsFile } from './fs/write-safetensors-file.js';
export { saveModelFolder, updateDuetManifest, recoverModelFolder, type ModelFolderParts, type UpdateManifestOptions } from './fs/save-folder.js';
export { verifyFolder } from './fs/verify-folder.js';
export { hashFile, hashFolderFiles, listFolderFiles } from './fs/hash.js';
