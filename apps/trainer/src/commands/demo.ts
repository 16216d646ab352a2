// `duet demo`: the web demo (apps/web-demo) with a model folder on localhost. The page runs the model in the
// browser (onnxruntime-web); this process only serves files. The page is built with Vite on first use.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { FASHION_MNIST_CLASSES, fashionMnist, readSamples } from '@duet/data';
import type { RawImage } from '@duet/preprocess';
import { startDemoServer, type DemoGalleryInput } from '@duet/web-demo/node';
import { int } from './options.js';

/** The first `limit` Fashion-MNIST test images with their class labels, as the demo's default gallery. */
export async function fashionMnistGallery(limit: number): Promise<DemoGalleryInput> {
  const images: RawImage[] = [];
  const labels: number[] = [];
  for await (const s of readSamples(fashionMnist({ split: 'test', limit }))) {
    images.push(s.image);
    labels.push(s.label!);
  }
  return { name: 'fashion-mnist-test', images, labels: { labels, classNames: [...FASHION_MNIST_CLASSES] } };
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('Serve the browser demo (text -> image search, zero-shot labels) with a model folder on localhost.')
    .requiredOption('--model <dir>', 'model folder with ONNX towers (duet export --onnx)')
    .option('--port <n>', 'port (0 = any free port)', int('--port', 0), 8081)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--gallery-size <n>', 'Fashion-MNIST test images in the default gallery (0 = none)', int('--gallery-size', 0), 1000)
    .addHelpText('after', `
The page is built with Vite into apps/web-demo/dist/web on first use (and rebuilt when its sources change).
Examples:
  $ duet demo --model models/tiny-clip             # then open http://127.0.0.1:8081/
  $ duet demo --model models/tiny-clip --port 0 --gallery-size 200`)
    .action(async (o: { model: string; port: number; host: string; gallerySize: number }) => {
      if (!existsSync(o.model)) throw new Error(`--model ${o.model}: no such directory`);
      let gallery: DemoGalleryInput | undefined;
      try {
        if (o.gallerySize > 0) gallery = await fashionMnistGallery(o.gallerySize);
      } catch (e) {
        // The page works without a default gallery (the user chooses images); say why there is none.
        process.stderr.write(`no Fashion-MNIST gallery: ${(e as Error).message}\n`);
      }
      const demo = await startDemoServer({ modelDir: o.model, port: o.port, host: o.host, gallery, log: (m) => process.stderr.write(`${m}\n`) });
      process.stdout.write(`web demo: ${demo.url} (model ${demo.modelUrl}${gallery ? `, gallery ${gallery.images.length} Fashion-MNIST test images` : ''})\n`);
      await new Promise<void>((done) => {
        const stop = (): void => void demo.close().then(done, done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
