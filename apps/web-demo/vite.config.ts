// Vite build of the demo page. Workspace packages resolve to their TypeScript sources (@duet/source); onnxruntime-web
// is imported dynamically by @duet/inference, so it lands in its own chunk, and its .wasm (referenced with
// new URL(..., import.meta.url)) is emitted next to it: the built folder is self-contained and works offline.
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  resolve: { conditions: ['@duet/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: false,
    // On a loaded machine rolldown warns that plugins were slow; not actionable for users of `duet demo`.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
