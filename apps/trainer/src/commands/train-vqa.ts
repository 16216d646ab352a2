// `duet train --task vqa`: the VQA head (cross-attention fusion) and the late-fusion baseline on a contrastively
// trained model. train.ts declares --task and hands over here; the shared flags keep their meaning.
import { readFileSync, existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { getVqaRecipe, listVqaRecipes, resolveVqaConfig, trainVqa, ProgressReporter, fmtDur, type VqaTrainConfigInput } from '@duet/training';

/** Adds the VQA-only options to `duet train` (the shared ones — model, data, steps, lr, ... — are train's own). */
export function withVqaOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--task <task>', 'what to train: a contrastive dual encoder, or a VQA head on one (--model)').choices(['contrastive', 'vqa']).default('contrastive'))
    .addOption(new Option('--head <type>', 'VQA head: cross-attention fusion over tokens, or late fusion of pooled embeddings').choices(['cross_attention', 'late_fusion']))
    .option('--fusion <json>', 'VQA: duet_fusion fields as JSON, e.g. \'{"num_blocks":2,"hidden_size":64,"symmetric":true}\'')
    .option('--no-baseline', 'VQA: skip the late-fusion baseline trained with the same budget')
    .option('--type-weights <list>', 'VQA: sampling weight per question type, e.g. relation=4,location=2 (integers; 0 drops a type)')
    .addOption(new Option('--freeze <towers>', "VQA: towers kept frozen ('text' fine-tunes the vision tower with the head)").choices(['towers', 'text', 'vision', 'none']))
    .addHelpText('after', `
VQA (--task vqa; recipes: ${listVqaRecipes().join(', ')}):
  $ duet train --recipe shapes-clip --out runs/shapes   # contrastive towers first
  $ duet train --task vqa --recipe shapes-vqa --model runs/shapes/model --out runs/shapes-vqa
  $ duet train --task vqa --smoke --model runs/shapes/model --out /tmp/vqa-smoke          # one step`);
}

const FLAG_TO_FIELD: Record<string, string> = {
  model: 'model', data: 'data', evalData: 'evalData', batchSize: 'batchSize', lr: 'lr', wd: 'weightDecay', warmup: 'warmup',
  schedule: 'schedule', steps: 'steps', gradClip: 'gradClipNorm', backend: 'backend', seed: 'seed', out: 'out', evalEvery: 'evalEvery', head: 'head',
};
const CONTRASTIVE_ONLY = ['preset', 'loss', 'accum', 'epochs', 'resume', 'lockImage', 'augment', 'saveEvery', 'keep', 'trainLimit', 'stopAfter', 'cooldownSteps', 'evalLimit'];

/** "relation=4,location=2" → { relation: 4, location: 2 }. */
export function parseTypeWeights(list: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of list.split(',').filter(Boolean)) {
    const m = /^([a-z_]+)=(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`--type-weights: expected type=integer pairs separated by commas (e.g. relation=4,location=2), got "${part}"`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Layers: recipe (shapes-vqa by default, vqa-smoke with --smoke) < config file < flags. */
export function buildVqaConfig(o: Record<string, unknown>) {
  const used = CONTRASTIVE_ONLY.filter((k) => o[k] !== undefined);
  if (used.length) throw new Error(`--task vqa does not take ${used.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  const flags: Partial<VqaTrainConfigInput> = {};
  for (const [k, field] of Object.entries(FLAG_TO_FIELD)) if (o[k] !== undefined) (flags as Record<string, unknown>)[field] = o[k];
  if (o['baseline'] === false) flags.baseline = false;
  if (o['freeze'] !== undefined) flags.freeze = o['freeze'] as VqaTrainConfigInput['freeze'];
  if (o['typeWeights'] !== undefined) flags.typeWeights = parseTypeWeights(String(o['typeWeights']));
  if (o['fusion'] !== undefined) {
    try {
      flags.fusion = JSON.parse(String(o['fusion'])) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`--fusion: not valid JSON (${(e as Error).message})`);
    }
  }
  const recipe = getVqaRecipe(o['smoke'] ? 'vqa-smoke' : o['recipe'] ? String(o['recipe']) : 'shapes-vqa');
  let file: Partial<VqaTrainConfigInput> | undefined;
  if (o['config']) {
    const p = String(o['config']);
    if (!existsSync(p)) throw new Error(`--config ${p}: no such file`);
    try {
      file = JSON.parse(readFileSync(p, 'utf8')) as Partial<VqaTrainConfigInput>;
    } catch (e) {
      throw new Error(`--config ${p}: not valid JSON (${(e as Error).message})`);
    }
  }
  const c = resolveVqaConfig(recipe, file, flags);
  if (!existsSync(c.model!)) throw new Error(`--model ${c.model}: no such directory`);
  if (!o['out'] && !file?.out) c.out = `runs/vqa-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  return c;
}

export async function trainVqaAction(o: Record<string, unknown>): Promise<void> {
  const config = buildVqaConfig(o);
  const progress = new ProgressReporter({ label: 'vqa' });
  const ac = new AbortController();
  const onSigint = () => {
    progress.log('interrupt: stopping after this step (the head trained so far is evaluated and saved)');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  progress.log(`duet train --task vqa: ${config.head} on ${config.model} · data ${config.data} · ${config.steps} steps × ${config.batchSize} · lr ${config.lr} · out ${config.out}`);
  const t0 = Date.now();
  const r = await trainVqa(config, {
    signal: ac.signal,
    onLog: (m) => progress.log(m),
    onProgress: (head, p) => progress.update({ step: p.step, total: p.totalSteps, samples: p.samplesSeen, fields: { head, loss: p.loss, lr: p.lr } }),
  });
  progress.end();
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  process.stderr.write(`${r.stopped} in ${fmtDur((Date.now() - t0) / 1000)}\n\n${r.table}\nresults: ${r.outDir}/results.{md,json}${r.figure ? `  attention maps: ${r.figure}` : ''}\n`);
  for (const [k, h] of Object.entries(r.results.heads)) process.stderr.write(`${k} model folder: ${h.modelDir}\n`);
  if (o['json']) process.stdout.write(JSON.stringify(r.results, null, 2) + '\n');
  if (r.stopped === 'interrupted') process.exitCode = 130;
}
