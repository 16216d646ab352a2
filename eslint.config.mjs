import nx from '@nx/eslint-plugin';

// Layers (see ../shared/design/ARCHITECTURE.md): app -> engine -> feature -> core, never upward.
export const depConstraints = [
  // Apps tagged role:servable (retrieval API, web demo) export their server so the umbrella `duet` CLI can start them
  // in-process (`duet serve`, `duet demo`); no app imports the CLI.
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:engine', 'type:feature', 'type:core', 'role:servable'] },
  { sourceTag: 'role:servable', notDependOnLibsWithTags: ['type:app'] },
  { sourceTag: 'type:engine', onlyDependOnLibsWithTags: ['type:feature', 'type:core'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:core'] },
  { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core'] },
  { sourceTag: 'platform:isomorphic', onlyDependOnLibsWithTags: ['platform:isomorphic'] },
  { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['platform:isomorphic', 'platform:browser'] },
  { sourceTag: 'platform:node', onlyDependOnLibsWithTags: ['platform:isomorphic', 'platform:node'] },
  // inference serves models: it never pulls in the training stack.
  { sourceTag: 'role:serving', notDependOnLibsWithTags: ['role:training-only'] },
  // losses takes a ProcessGroup as an argument; it never imports the implementation.
  { sourceTag: 'pkg:losses', notDependOnLibsWithTags: ['pkg:distributed'] },
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/node_modules', 'reports', 'bench-results', 'runs', '**/*.timestamp*', 'apps/web-demo/public'],
  },
  {
    // Per-project tool configs import the shared root config by relative path on purpose.
    files: ['**/eslint.config.mjs', '**/vitest.config.ts', '**/vite.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs'],
    ignores: ['**/eslint.config.mjs', '**/vitest.config.ts', '**/vite.config.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
