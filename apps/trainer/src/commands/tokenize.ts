// `duet tokenize --model DIR TEXT…`: input ids and attention mask with the model's own tokenizer conventions.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadModelFolder } from '@duet/model-format/node';
import { TextTokenizer } from '@duet/preprocess';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description("Tokenize texts with a model folder's tokenizer (padding, context length and casing as the model expects).")
    .requiredOption('--model <dir>', 'model folder with tokenizer.json')
    .argument('<text...>', 'texts to tokenize')
    .addHelpText('after', `
Examples:
  $ duet tokenize --model ../shared/fixtures/hf-reference/tiny-siglip "a photo of a cat" "a dog"`)
    .action(async (texts: string[], o: { model: string }) => {
      if (!existsSync(o.model)) throw new Error(`--model ${o.model}: no such directory`);
      const folder = await loadModelFolder(o.model);
      if (!folder.tokenizerJson) throw new Error(`--model ${o.model}: no tokenizer.json in the folder`);
      const tok = TextTokenizer.fromJSON(folder.tokenizerJson as never, folder.tokenizerConfig as never, { modelConfig: folder.config });
      const enc = tok.encode(texts);
      const [b, l] = enc.shape;
      const rows = (a: Int32Array) => Array.from({ length: b }, (_, i) => Array.from(a.subarray(i * l, (i + 1) * l)));
      process.stdout.write(JSON.stringify({ input_ids: rows(enc.inputIds), attention_mask: rows(enc.attentionMask) }) + '\n');
    });
}
