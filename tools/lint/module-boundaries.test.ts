// Plants imports into packages (in memory, through ESLint's API) and checks that the workspace lint rule
// (@nx/enforce-module-boundaries with the layer tags) rejects upward imports and accepts downward ones.
import { describe, it, expect, beforeAll } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function lint(file: string, importFrom: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const code = `import * as planted from '${importFrom}';\nexport const used = planted;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return result!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries (nx tags)', () => {
  beforeAll(() => {
    // The rule reads nx's cached project graph; make sure it exists and is current.
    execFileSync(process.execPath, [`${root}node_modules/nx/dist/bin/nx.js`, 'show', 'projects'], { cwd: root, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'ignore' });
  });

  it('rejects a core package importing a feature package', async () => {
    const errors = await lint('packages/runtime/src/planted.ts', '@duet/preprocess');
    expect(errors.join('\n')).toMatch(/type:core.*can only depend on libs tagged with "type:core"/);
  });

  it('rejects a feature package importing an engine package', async () => {
    const errors = await lint('packages/preprocess/src/planted.ts', '@duet/inference');
    expect(errors.length).toBeGreaterThan(0);
  });

  it('rejects inference importing the training-only stack', async () => {
    const errors = await lint('packages/inference/src/planted.ts', '@duet/data');
    expect(errors.join('\n')).toMatch(/role:training-only|platform:isomorphic/);
  });

  it('rejects inference importing training (engine→engine, training-only role)', async () => {
    const errors = await lint('packages/inference/src/planted.ts', '@duet/training');
    expect(errors.join('\n')).toMatch(/type:engine|role:training-only|platform:isomorphic/);
  });

  it('accepts downward imports', async () => {
    expect(await lint('packages/training/src/planted.ts', '@duet/runtime')).toEqual([]);
    expect(await lint('apps/trainer/src/planted.ts', '@duet/training')).toEqual([]);
    expect(await lint('packages/encoders/src/planted.ts', '@duet/model-format')).toEqual([]);
  });
});
