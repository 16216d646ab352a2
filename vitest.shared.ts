// Shared vitest settings: every project resolves workspace packages from source (the @duet/source
// export condition) and writes a JSON report that .ci/run sums into "N passed, N failed".
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import { defaultServerConditions, defaultClientConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

export const workspaceRoot = fileURLToPath(new URL('.', import.meta.url));

export function projectConfig(dir: URL, name = basename(fileURLToPath(dir)), extra: ViteUserConfig['test'] = {}) {
  const root = fileURLToPath(dir);
  return defineConfig({
    root,
    resolve: { conditions: ['@duet/source', ...defaultClientConditions] },
    ssr: { resolve: { conditions: ['@duet/source', ...defaultServerConditions], externalConditions: ['@duet/source'] } },
    test: {
      name,
      root,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      pool: 'forks',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      reporters: ['default', ['json', { outputFile: `${workspaceRoot}reports/vitest/${name}.json` }]],
      ...extra,
    },
  });
}
