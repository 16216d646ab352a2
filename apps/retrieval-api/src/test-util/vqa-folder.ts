// A servable model folder with a fusion head: the tiny-clip test folder's towers + a fresh (seeded) VQA head,
// saved through @duet/model-format and exported to ONNX again (the export reads only the towers' tensors).
import { join } from 'node:path';
import { initBackend, tf } from '@duet/runtime';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { loadDualEncoder } from '@duet/encoders';
import { VqaModel } from '@duet/fusion';
import { exportOnnx } from '@duet/inference/node';

export const TEST_ANSWERS = ['yes', 'no', 'cat', 'astronaut', 'two'];

export async function makeTestVqaFolder(baseDir: string): Promise<string> {
  try {
    await initBackend({ backend: 'wasm' });
  } catch (e) {
    if (!(await tf.setBackend('wasm'))) throw e;
    await tf.ready();
  }
  const base = await loadModelFolder(baseDir);
  const model = VqaModel.create(await loadDualEncoder(base), { answer_vocab: TEST_ANSWERS, hidden_size: 16, num_heads: 2, num_blocks: 1, mlp_ratio: 2, initializer_range: 0.5 }, { seed: 3 });
  const dir = join(baseDir, '..', 'tiny-clip-vqa');
  await saveModelFolder(dir, {
    config: model.config as never, tensors: model.toTensors(),
    tokenizerJson: base.tokenizerJson as Record<string, unknown>, tokenizerConfig: base.tokenizerConfig as Record<string, unknown>,
    preprocessorConfig: base.preprocessorConfig as Record<string, unknown>,
  });
  model.dispose();
  await exportOnnx(dir);
  return dir;
}
