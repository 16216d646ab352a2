// `duet train --task vqa`: one-step smoke run on a one-step contrastive model, and config errors before any work.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildVqaConfig } from './commands/train-vqa.js';

const bin = fileURLToPath(new URL('../bin/duet.js', import.meta.url));
function duet(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmpdir(), timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('duet train --task vqa', () => {
  it('smoke: trains the cross-attention head and the late-fusion baseline one step each and writes both folders, the table and the attention PNG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-vqa-cli-'));
    const pre = duet('train', '--smoke', '--out', join(dir, 'pre'));
    expect(pre.code, pre.err).toBe(0);
    const r = duet('train', '--task', 'vqa', '--smoke', '--model', join(dir, 'pre', 'model'), '--out', join(dir, 'vqa'), '--json');
    expect(r.code, r.err).toBe(0);
    const results = JSON.parse(r.out) as { heads: Record<string, { steps: number; eval: { count: number; byType: Record<string, unknown> } }>; answerVocab: string[] };
    expect(Object.keys(results.heads)).toEqual(['cross_attention', 'late_fusion']);
    for (const h of Object.values(results.heads)) {
      expect(h.steps).toBe(1);
      expect(h.eval.count).toBeGreaterThan(0);
    }
    expect(results.answerVocab).toContain('yes');
    expect(r.err).toMatch(/\| question type \| n \| cross-attention \| late-fusion \|/);
    const config = JSON.parse(readFileSync(join(dir, 'vqa', 'model', 'config.json'), 'utf8')) as Record<string, { type: string; answer_vocab: string[] }>;
    expect(config['duet_fusion']!.type).toBe('cross_attention');
    expect(config['duet_fusion']!.answer_vocab).toEqual(results.answerVocab);
    expect(JSON.parse(readFileSync(join(dir, 'vqa', 'baseline', 'model', 'config.json'), 'utf8'))['duet_fusion'].type).toBe('late_fusion');
    for (const f of ['results.md', 'results.json', 'metrics.jsonl', 'attention.png', 'model/tokenizer.json']) expect(existsSync(join(dir, 'vqa', f)), f).toBe(true);
    expect(readFileSync(join(dir, 'vqa', 'attention.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('rejects a missing model and contrastive-only flags before any work', () => {
    expect(() => buildVqaConfig({ smoke: true })).toThrow(/VQA training needs --model/);
    expect(() => buildVqaConfig({ smoke: true, model: '/nonexistent/model' })).toThrow('--model /nonexistent/model: no such directory');
    expect(() => buildVqaConfig({ model: '.', lockImage: true, accum: 2 })).toThrow('--task vqa does not take --accum, --lock-image');
    expect(() => buildVqaConfig({ model: '.', fusion: '{bad' })).toThrow(/--fusion: not valid JSON/);
    expect(() => buildVqaConfig({ model: '.', recipe: 'nope' })).toThrow(/unknown VQA recipe "nope"/);
    const c = buildVqaConfig({ model: '.', steps: 7, fusion: '{"num_blocks":3}', baseline: false, freeze: 'text' });
    expect(c).toMatchObject({ steps: 7, fusion: { num_blocks: 3, hidden_size: 64, num_heads: 4 }, baseline: false, freeze: 'text', head: 'cross_attention' });
    expect(buildVqaConfig({ model: '.', typeWeights: 'relation=3,color=0' }).typeWeights).toEqual({ relation: 3, color: 0 });
    expect(() => buildVqaConfig({ model: '.', typeWeights: 'relation=1.5' })).toThrow('--type-weights: expected type=integer pairs separated by commas (e.g. relation=4,location=2), got "relation=1.5"');
  });
});
