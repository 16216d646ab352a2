// Tests run on the wasm backend. initBackend loads Node providers through a runtime-string dynamic import that
// vitest's module runner cannot always resolve from source; then select wasm directly (same kernels).
import { initBackend, tf } from '@duet/runtime';

export async function useWasm(): Promise<void> {
  try {
    await initBackend({ backend: 'wasm' });
  } catch (e) {
    if (!(await tf.setBackend('wasm'))) throw e;
    await tf.ready();
  }
}
