// Creates the skeleton of a workspace project (package.json, tsconfigs, vitest/eslint configs, src/index.ts).
// Usage: node tools/scaffold.mjs <dir> <name> <type> <platform> [--node] [--deps a,b] [--ext x@1,y@2]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const [dir, name, type, platform, ...rest] = process.argv.slice(2);
const flag = (f) => rest.includes(f);
const opt = (f) => { const i = rest.indexOf(f); return i >= 0 ? rest[i + 1].split(',').filter(Boolean) : []; };
const deps = opt('--deps');
const ext = opt('--ext');
const extraTags = opt('--tags');
const root = relative(dir, '.') || '.';
mkdirSync(join(dir, 'src'), { recursive: true });

const entry = (src, out) => ({ '@duet/source': src, types: out.replace(/\.js$/, '.d.ts'), import: out, default: out });
const exportsMap = { '.': entry('./src/index.ts', './dist/index.js'), './package.json': './package.json' };
if (flag('--node')) exportsMap['./node'] = entry('./src/node.ts', './dist/node.js');
const dependencies = {};
for (const d of deps) dependencies[`@duet/${d}`] = '0.1.0';
for (const e of ext) { const at = e.lastIndexOf('@'); dependencies[e.slice(0, at)] = e.slice(at + 1); }
const pkg = {
  name: `@duet/${name}`, version: '0.1.0', private: true, type: 'module',
  main: './dist/index.js', types: './dist/index.d.ts', exports: exportsMap,
  files: ['dist', '!**/*.tsbuildinfo'],
  nx: { tags: [`type:${type}`, `platform:${platform}`, `pkg:${name}`, ...extraTags] },
  dependencies,
};
const w = (f, s) => { if (!existsSync(join(dir, f)) || flag('--force')) writeFileSync(join(dir, f), s); };
w('package.json', JSON.stringify(pkg, null, 2) + '\n');
w('tsconfig.json', JSON.stringify({ extends: `${root}/tsconfig.base.json`, files: [], include: [], references: [{ path: './tsconfig.lib.json' }, { path: './tsconfig.spec.json' }] }, null, 2) + '\n');
w('tsconfig.lib.json', JSON.stringify({
  extends: `${root}/tsconfig.base.json`,
  compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo', types: ['node'] },
  include: ['src/**/*.ts'], exclude: ['src/**/*.test.ts', 'src/**/*.bench.ts'],
  references: deps.map((d) => ({ path: `${root}/${d === 'trainer' ? 'apps' : 'packages'}/${d}/tsconfig.lib.json` })),
}, null, 2) + '\n');
w('tsconfig.spec.json', JSON.stringify({
  extends: `${root}/tsconfig.base.json`,
  compilerOptions: { outDir: './out-tsc/vitest', types: ['vitest/globals', 'node'], noUnusedLocals: false },
  include: ['vitest.config.ts', 'src/**/*.test.ts', 'src/**/*.ts'],
  references: [{ path: './tsconfig.lib.json' }],
}, null, 2) + '\n');
w('vitest.config.ts', `import { projectConfig } from '${root}/vitest.shared.ts';\n\nexport default projectConfig(new URL('.', import.meta.url), '${name}');\n`);
w('eslint.config.mjs', `import baseConfig from '${root}/eslint.config.mjs';\n\nexport default [...baseConfig];\n`);
w('src/index.ts', `// Public surface of @duet/${name}: everything other packages may import.\nexport {};\n`);
if (flag('--node')) w('src/node.ts', `// Node-only surface of @duet/${name} (uses node:* / native modules).\nexport * from './index.js';\n`);
console.log('scaffolded', dir);
