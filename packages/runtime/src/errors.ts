// Error raised when a backend that was asked for explicitly cannot be used.
import type { BackendName } from './types.js';

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: BackendName,
    /** What is missing, e.g. "tfjs-node-gpu not installed". */
    readonly reason: string,
    /** How to get it (install command, driver, env var). */
    readonly hint?: string,
  ) {
    super(`backend "${backend}" is not available: ${reason}${hint ? `. ${hint}` : ''}`);
  }
}
