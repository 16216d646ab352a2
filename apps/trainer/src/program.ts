// The `duet` command tree (commander). Each subcommand lives in commands/<name>.ts.
import { Command } from 'commander';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { infoCommand } from './commands/info.js';
import { embedCommand } from './commands/embed.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { dataCommand } from './commands/data.js';
import { serveCommand } from './commands/serve.js';
import { demoCommand } from './commands/demo.js';

export function buildProgram(): Command {
  const program = new Command('duet')
    .description('Train, evaluate, inspect and export contrastive image–text models (CLIP, SigLIP).')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Examples:
  $ duet train                                 # tiny-siglip on Fashion-MNIST, wasm backend -> runs/
  $ duet train --preset tiny-clip --loss clip --epochs 2 --out runs/clip
  $ duet train --resume runs/clip              # continue an interrupted run exactly
  $ duet eval --model runs/clip/model
  $ duet info runs/clip/model
  $ duet embed --model runs/clip/model --input captions.txt --out embeds.safetensors`);
  program.addCommand(trainCommand());
  program.addCommand(evalCommand());
  program.addCommand(exportCommand());
  program.addCommand(dataCommand());
  program.addCommand(infoCommand());
  program.addCommand(embedCommand());
  program.addCommand(tokenizeCommand());
  program.addCommand(serveCommand());
  program.addCommand(demoCommand());
  return program;
}
