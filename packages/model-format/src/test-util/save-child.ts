// Child process for the kill-during-save test: saves the same folder over and over, each save self-consistent
// (a filler tensor whose bytes all equal the save number, recorded as provenance.step), printing "saved N".
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../safetensors.js';
import { saveModelFolder } from '../fs/save-folder.js';
import { fixturePath } from './fixtures.js';

const [dir, mb, start] = process.argv.slice(2);
const config = JSON.parse(readFileSync(fixturePath('tiny-clip', 'config.json'), 'utf8'));
const base = readSafetensors(new Uint8Array(readFileSync(fixturePath('tiny-clip')))).tensors;
for (let i = Number(start ?? 0); ; i++) {
  const tensors = new Map(base);
  tensors.set('filler', { dtype: 'U8', shape: [Number(mb) * 1024 * 1024], data: new Uint8Array(Number(mb) * 1024 * 1024).fill(i % 256) });
  await saveModelFolder(dir!, { config, tensors, duet: { provenance: { step: i } } });
  process.stdout.write(`saved ${i}\n`);
}
