import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/duet.js', import.meta.url));

describe('duet train and Ctrl-C', () => {
  it('SIGINT (through bin/duet.js) finishes the step, writes a checkpoint and exits with 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-sigint-'));
    const out = join(dir, 'run');
    writeFileSync(join(dir, 'run.json'), JSON.stringify({
      preset: 'tiny-siglip', data: 'shapes', evalData: 'none', trainLimit: 64, batchSize: 4, steps: 100000, warmup: 0, backend: 'cpu', out,
      modelOverrides: {
        vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, patch_size: 14 },
        text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16, projection_size: 16 },
      },
    }));
    const child = spawn(process.execPath, [bin, 'train', '--config', join(dir, 'run.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        if (/train step \d+/.test(err) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, err).toBe(130);
    expect(err).toMatch(/interrupted at step \d+: checkpoint saved/);
    const ckpts = readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('step-'));
    expect(ckpts).toHaveLength(1);
    expect(existsSync(join(out, 'checkpoints', ckpts[0]!, 'trainer_state', 'optimizer.safetensors'))).toBe(true);
  });
});
