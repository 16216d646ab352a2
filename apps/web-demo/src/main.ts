// The page: wires the DOM to DemoEngine. Every failure ends in the message banner; the page stays usable.
import './styles.css';
import { decodeImageBlob, type RawImage } from '@duet/preprocess';
import { DemoEngine, type Ranked } from './engine.js';
import { decodeGallery, parseGalleryHeader, type GalleryItem } from './gallery.js';
import { thumbnailUrl } from './thumbnail.js';

interface DemoConfig {
  modelUrl?: string;
  gallery?: { header: string; data: string };
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = {
  form: $<HTMLFormElement>('model-form'), url: $<HTMLInputElement>('model-url'), load: $<HTMLButtonElement>('load-model'),
  model: $('info-model'), backend: $('info-backend'), tLoad: $('timing-load'), tGallery: $('timing-gallery'), tQuery: $('timing-query'),
  progress: $('progress'), message: $('message'), search: $<HTMLInputElement>('search'), results: $('results'),
  drop: $('drop-zone'), file: $<HTMLInputElement>('query-file'), preview: $<HTMLImageElement>('query-preview'),
  labels: $<HTMLTextAreaElement>('labels'), template: $<HTMLInputElement>('template'), classification: $('classification'),
  neighbours: $('neighbours'), galleryName: $('gallery-name'), galleryFiles: $<HTMLInputElement>('gallery-files'),
  galleryReset: $<HTMLButtonElement>('gallery-reset'), strip: $('gallery-strip'),
};

const GENERIC_LABELS = ['a dog', 'a cat', 'a car', 'a person', 'food'];
let engine: DemoEngine | undefined;
let defaultGallery: GalleryItem[] | undefined;
let defaultGalleryName = '';
let queryImage: RawImage | undefined;
let generation = 0; // a newer model load makes older async work stale

const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const setState = (s: string): void => void (document.body.dataset['state'] = s);

function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  el.message.textContent = text;
  el.message.className = `message ${kind}`;
  el.message.hidden = false;
}
function clearMessage(): void {
  el.message.hidden = true;
  el.message.textContent = '';
}

function progress(done: number, total: number, text: string): void {
  el.progress.hidden = done >= total;
  (el.progress.querySelector('.bar') as HTMLElement).style.width = `${(100 * done) / Math.max(total, 1)}%`;
  (el.progress.querySelector('.text') as HTMLElement).textContent = text;
}

function setEnabled(on: boolean): void {
  for (const x of [el.search, el.file, el.galleryFiles]) x.disabled = !on;
  el.galleryReset.disabled = !on || !defaultGallery;
}

function tile(r: Ranked, cls = 'result'): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = cls;
  if (r.item.label) fig.dataset['label'] = r.item.label;
  const img = document.createElement('img');
  img.src = thumbnailUrl(r.item);
  img.alt = r.item.label ?? r.item.id;
  const cap = document.createElement('figcaption');
  cap.innerHTML = `<span class="name"></span><span class="score">${r.score.toFixed(3)}</span>`;
  (cap.firstChild as HTMLElement).textContent = r.item.label ?? r.item.id.replace(/^user-\d+-/, '');
  fig.append(img, cap);
  return fig;
}

function renderStrip(items: GalleryItem[]): void {
  el.strip.replaceChildren(...items.slice(0, 48).map((item) => tile({ item, score: 0 }, 'strip-item')));
  for (const s of el.strip.querySelectorAll('.score')) s.remove();
}

async function fetchGallery(cfg: DemoConfig): Promise<GalleryItem[] | undefined> {
  if (!cfg.gallery) return undefined;
  const [h, b] = await Promise.all([fetch(cfg.gallery.header), fetch(cfg.gallery.data)]);
  if (!h.ok || !b.ok) throw new Error(`gallery: HTTP ${h.ok ? b.status : h.status}`);
  const header = parseGalleryHeader(await h.json());
  defaultGalleryName = header.name;
  if (header.classNames) el.labels.value = header.classNames.join('\n');
  return decodeGallery(header, new Uint8Array(await b.arrayBuffer()));
}

async function embedGallery(items: GalleryItem[], name: string): Promise<void> {
  const e = engine!;
  const gen = generation;
  setState('embedding-gallery');
  setEnabled(false);
  progress(0, items.length, `embedding ${items.length} images…`);
  try {
    const { ms: t } = await e.setGallery(items, (d, n) => progress(d, n, `embedding gallery: ${d}/${n}`));
    if (gen !== generation) return;
    el.tGallery.textContent = `${items.length} images in ${ms(t)} (${(t / items.length).toFixed(1)} ms/image)`;
    el.tGallery.dataset['ms'] = String(t);
    el.galleryName.textContent = `· ${name} (${items.length} images)`;
    renderStrip(items);
    setState('ready');
    if (el.search.value.trim()) void runSearch();
  } catch (err) {
    showMessage(`Could not embed the gallery: ${(err as Error).message}`);
    setState('error');
  } finally {
    progress(1, 1, '');
    setEnabled(true);
  }
}

async function loadModel(url: string): Promise<void> {
  const gen = ++generation;
  clearMessage();
  setState('loading-model');
  setEnabled(false);
  el.load.disabled = true;
  el.model.textContent = `loading ${url}…`;
  progress(0, 1, 'loading model…');
  try {
    // ?backend=wasm skips WebGPU (tiny models can run faster on wasm than through a GPU's dispatch overhead).
    const next = await DemoEngine.load(url, { preferWebGpu: new URLSearchParams(location.search).get('backend') !== 'wasm' });
    if (gen !== generation) return void next.dispose();
    const old = engine;
    engine = next;
    void old?.dispose();
    const i = next.info;
    el.model.textContent = `${i.modelName} (${i.modelType}, ${i.lossFamily} loss, ${i.dim}-d, ${i.imageSize}px)`;
    el.backend.textContent = i.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly (SIMD, 1 thread)';
    el.backend.title = i.backendNote ?? '';
    el.tLoad.textContent = ms(i.loadMs);
    el.tLoad.dataset['ms'] = String(i.loadMs);
    el.results.replaceChildren();
    el.classification.replaceChildren();
    el.neighbours.replaceChildren();
    const items = defaultGallery ?? [];
    if (items.length) await embedGallery(items, defaultGalleryName);
    else {
      setState('ready');
      showMessage('No gallery yet: choose some images below to search over.', 'info');
    }
  } catch (err) {
    if (gen !== generation) return;
    el.model.textContent = engine ? `${engine.info.modelName} (still loaded)` : '—';
    showMessage((err as Error).message);
    setState(engine ? 'ready' : 'error');
  } finally {
    if (gen === generation) {
      progress(1, 1, '');
      el.load.disabled = false;
      setEnabled(!!engine);
    }
  }
}

let searchSeq = 0;
async function runSearch(): Promise<void> {
  const q = el.search.value;
  const seq = ++searchSeq;
  if (!engine || !engine.gallerySize) return;
  if (!q.trim()) {
    el.results.replaceChildren();
    el.results.dataset['query'] = '';
    return;
  }
  try {
    const { results, ms: t } = await engine.searchText(q, 12);
    if (seq !== searchSeq) return;
    el.results.replaceChildren(...results.map((r) => tile(r)));
    el.results.dataset['query'] = q;
    el.tQuery.textContent = `text search ${ms(t)}`;
    el.tQuery.dataset['ms'] = String(t);
  } catch (err) {
    showMessage(`Search failed: ${(err as Error).message}`);
  }
}

function currentLabels(): string[] {
  return el.labels.value.split(/\n|,/).map((s) => s.trim()).filter(Boolean);
}

async function classifyCurrent(): Promise<void> {
  if (!engine || !queryImage) return;
  const labels = currentLabels();
  if (!labels.length) return showMessage('Enter at least one label to classify against.');
  try {
    const r = await engine.classify(queryImage, labels, { templates: [el.template.value || '{}'], k: 8 });
    clearMessage();
    el.classification.replaceChildren(...r.labels.slice(0, 10).map((l) => {
      const li = document.createElement('li');
      li.className = 'label-row';
      li.dataset['label'] = l.label;
      li.innerHTML = '<span class="name"></span><span class="meter"><span></span></span><span class="pct"></span>';
      (li.querySelector('.name') as HTMLElement).textContent = l.label;
      (li.querySelector('.meter span') as HTMLElement).style.width = `${(100 * l.probability).toFixed(1)}%`;
      (li.querySelector('.pct') as HTMLElement).textContent = `${(100 * l.probability).toFixed(1)}%`;
      return li;
    }));
    el.neighbours.replaceChildren(...r.neighbours.map((n) => tile(n, 'neighbour')));
    el.tQuery.textContent = `classify + neighbours ${ms(r.ms)}`;
    el.tQuery.dataset['ms'] = String(r.ms);
  } catch (err) {
    showMessage(`Classification failed: ${(err as Error).message}`);
  }
}

async function decodeFile(f: File): Promise<RawImage> {
  if (f.type && !f.type.startsWith('image/')) throw new Error(`"${f.name}" is not an image (${f.type}); drop a PNG, JPEG, WebP, GIF or BMP file`);
  try {
    return await decodeImageBlob(f, { maxPixels: 40_000_000 });
  } catch (e) {
    throw new Error(`"${f.name}" could not be read as an image: ${(e as Error).message.replace(/^decodeImageBlob: /, '')}`);
  }
}

async function onQueryFile(files: FileList | null | undefined): Promise<void> {
  const f = files?.[0];
  if (!f || !engine) return;
  try {
    queryImage = await decodeFile(f);
  } catch (err) {
    return showMessage((err as Error).message);
  }
  if (el.preview.src.startsWith('blob:')) URL.revokeObjectURL(el.preview.src);
  el.preview.src = URL.createObjectURL(f);
  el.preview.hidden = false;
  await classifyCurrent();
}

async function onGalleryFiles(files: FileList | null): Promise<void> {
  if (!files?.length || !engine) return;
  const items: GalleryItem[] = [];
  const bad: string[] = [];
  for (const [i, f] of [...files].entries()) {
    try {
      items.push({ id: `user-${i}-${f.name}`, image: await decodeFile(f), src: URL.createObjectURL(f) });
    } catch {
      bad.push(f.name);
    }
  }
  if (bad.length) showMessage(`Skipped ${bad.length} file(s) that are not images: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? '…' : ''}`);
  else clearMessage();
  if (!items.length) return;
  if (!bad.length && el.labels.value.trim() === '') el.labels.value = GENERIC_LABELS.join('\n');
  await embedGallery(items, 'your images');
}

function wire(): void {
  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const url = el.url.value.trim();
    if (!url) return showMessage('Enter the URL of a model folder (it must contain config.json and onnx/).');
    void loadModel(new URL(url, location.href).href);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  el.search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void runSearch(), 120);
  });
  el.file.addEventListener('change', () => void onQueryFile(el.file.files));
  el.drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      el.file.click();
    }
  });
  el.galleryFiles.addEventListener('change', () => void onGalleryFiles(el.galleryFiles.files));
  el.galleryReset.addEventListener('click', () => defaultGallery && void embedGallery(defaultGallery, defaultGalleryName));
  let relabel: ReturnType<typeof setTimeout> | undefined;
  for (const x of [el.labels, el.template]) {
    x.addEventListener('input', () => {
      clearTimeout(relabel);
      relabel = setTimeout(() => void classifyCurrent(), 300);
    });
  }
  for (const ev of ['dragenter', 'dragover']) {
    el.drop.addEventListener(ev, (e) => {
      e.preventDefault();
      el.drop.classList.add('over');
    });
  }
  for (const ev of ['dragleave', 'drop']) el.drop.addEventListener(ev, () => el.drop.classList.remove('over'));
  el.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (!engine) return showMessage('Load a model first.');
    void onQueryFile((e as DragEvent).dataTransfer?.files);
  });
  // A drop that misses the zone must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

async function start(): Promise<void> {
  wire();
  let cfg: DemoConfig = {};
  try {
    const r = await fetch('./demo-config.json');
    if (r.ok) cfg = (await r.json()) as DemoConfig;
  } catch {
    // Served without the demo server: the ?model= parameter or the form is the way in.
  }
  const param = new URLSearchParams(location.search).get('model');
  const url = param ?? cfg.modelUrl;
  try {
    defaultGallery = await fetchGallery(cfg);
  } catch (err) {
    showMessage(`The default gallery could not be loaded (${(err as Error).message}); choose your own images below.`);
  }
  if (!el.labels.value.trim()) el.labels.value = GENERIC_LABELS.join('\n');
  if (!url) {
    setState('idle');
    return showMessage('Enter the URL of a model folder above to start.', 'info');
  }
  el.url.value = url;
  await loadModel(new URL(url, location.href).href);
}

void start();
