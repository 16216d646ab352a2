// Public surface of @duet/trainer: the `duet` command tree (for embedding the CLI or testing it in-process).
export { buildProgram } from './program.js';
export { buildTrainConfig } from './commands/train.js';
