// Synthetic compositional "shapes" data: coloured circles/squares/triangles in distinct cells of a 3×3 grid,
// captions that bind attributes and relations ("a red circle left of a blue square") and VQA question–answer
// pairs (colour, shape, count, relative position, existence; optionally each object's grid cell). Every example is a
// pure function of (seed, index).
import { DataRng, hashSeed } from './rng.js';
import type { DataRecord, Dataset, RawImage } from './types.js';

export const SHAPE_COLORS = { red: [220, 38, 38], green: [34, 160, 70], blue: [37, 84, 220], yellow: [235, 196, 30], purple: [136, 56, 178], orange: [245, 130, 25] } as const;
export const SHAPE_KINDS = ['circle', 'square', 'triangle'] as const;
export type ShapeColor = keyof typeof SHAPE_COLORS;
export type ShapeKind = (typeof SHAPE_KINDS)[number];
const COLOR_NAMES = Object.keys(SHAPE_COLORS) as ShapeColor[];
const GRID = 3;
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

export interface PlacedShape {
  color: ShapeColor; shape: ShapeKind;
  /** Grid cell (0..2). */ row: number; col: number;
  /** Centre and half-size as fractions of the canvas side. */ cx: number; cy: number; r: number;
}
export type QuestionType = 'count' | 'color' | 'shape' | 'count_color' | 'relation' | 'exists' | 'location';
/** Names of the 3×3 grid cells, row-major: the answers of 'location' questions. */
export const GRID_CELLS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right'] as const;
export interface QuestionAnswer { question: string; answer: string; type: QuestionType }
export interface ShapesScene { shapes: PlacedShape[]; caption: string; questions: QuestionAnswer[] }

export interface ShapesOptions {
  seed: number;
  /** Number of examples. */
  size: number;
  /** Canvas side in pixels (default 64). */
  imageSize?: number;
  /** Attach question–answer pairs under meta.questions (default false). */
  withQuestions?: boolean;
  /**
   * Also ask "where is the <colour> <shape>?" (answer: its grid cell, GRID_CELLS) for every object (default false).
   * Absolute position is the lookup step of relative position: as extra training questions it teaches a VQA head to
   * find a named object and read its position, which relative-position questions then compare.
   */
  withLocations?: boolean;
  /** Shapes per image, inclusive range (default [1, 3]; at most 9). */
  shapeCount?: [number, number];
  /** Supersampling factor per axis for anti-aliasing (default 4). */
  supersample?: number;
}

/** "left of" | "right of" | "above" | "below": relation of a to b along the axis where they differ most. */
export function relation(a: PlacedShape, b: PlacedShape): string {
  const dc = a.col - b.col;
  const dr = a.row - b.row;
  if (Math.abs(dc) >= Math.abs(dr)) return dc < 0 ? 'left of' : 'right of';
  return dr < 0 ? 'above' : 'below';
}

function holds(rel: string, a: PlacedShape, b: PlacedShape): boolean {
  if (rel === 'left of') return a.col < b.col;
  if (rel === 'right of') return a.col > b.col;
  if (rel === 'above') return a.row < b.row;
  return a.row > b.row;
}

const phrase = (s: PlacedShape) => `${s.color} ${s.shape}`;

export function shapesScene(seed: number, index: number, opts: Pick<ShapesOptions, 'shapeCount' | 'withLocations'> = {}): ShapesScene {
  const rng = new DataRng(hashSeed(seed, index, 'shapes'));
  const [lo, hi] = opts.shapeCount ?? [1, 3];
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo && hi <= GRID * GRID)) throw new Error(`shapesDataset: shapeCount must be integers 1 <= min <= max <= 9, got [${lo}, ${hi}]`);
  const k = lo + rng.int(hi - lo + 1);
  const cells = rng.shuffle(Array.from({ length: GRID * GRID }, (_, i) => i)).slice(0, k);
  // Distinct (colour, shape) pairs so every object has a unique name.
  const combos = rng.shuffle(COLOR_NAMES.flatMap((c) => SHAPE_KINDS.map((s) => [c, s] as const))).slice(0, k);
  const shapes: PlacedShape[] = cells.map((cell, i) => {
    const row = Math.floor(cell / GRID);
    const col = cell % GRID;
    const r = (0.26 + 0.12 * rng.next()) / GRID; // half-size: 26–38% of a cell
    const slack = 0.5 / GRID - r;
    return {
      color: combos[i]![0], shape: combos[i]![1], row, col, r,
      cx: (col + 0.5) / GRID + (rng.next() * 2 - 1) * slack * 0.8,
      cy: (row + 0.5) / GRID + (rng.next() * 2 - 1) * slack * 0.8,
    };
  });
  let caption = `a ${phrase(shapes[0]!)}`;
  if (k >= 2) caption += ` ${relation(shapes[0]!, shapes[1]!)} a ${phrase(shapes[1]!)}`;
  const rest = shapes.slice(2).map((s) => `a ${phrase(s)}`);
  if (rest.length) caption += rest.length === 1 ? ` and ${rest[0]}` : `, ${rest.slice(0, -1).join(', ')} and ${rest[rest.length - 1]}`;
  const questions = questionsFor(shapes, rng);
  // After every rng draw, so a scene's other questions are the same with or without locations.
  if (opts.withLocations) for (const s of shapes) questions.push({ type: 'location', question: `where is the ${phrase(s)}?`, answer: GRID_CELLS[s.row * GRID + s.col]! });
  return { shapes, caption, questions };
}

function questionsFor(shapes: PlacedShape[], rng: DataRng): QuestionAnswer[] {
  const qs: QuestionAnswer[] = [];
  const n = shapes.length;
  qs.push({ type: 'count', question: 'how many shapes are there?', answer: NUMBER_WORDS[n]! });
  for (const kind of SHAPE_KINDS) {
    const m = shapes.filter((s) => s.shape === kind);
    if (m.length === 1) qs.push({ type: 'color', question: `what color is the ${kind}?`, answer: m[0]!.color });
  }
  for (const color of COLOR_NAMES) {
    const m = shapes.filter((s) => s.color === color);
    if (m.length === 1) qs.push({ type: 'shape', question: `what shape is the ${color} object?`, answer: m[0]!.shape });
  }
  const color = COLOR_NAMES[rng.int(COLOR_NAMES.length)]!;
  qs.push({ type: 'count_color', question: `how many ${color} shapes are there?`, answer: NUMBER_WORDS[shapes.filter((s) => s.color === color).length]! });
  if (n >= 2) {
    const a = shapes[0]!;
    const b = shapes[1]!;
    for (const rel of ['left of', 'right of', 'above', 'below']) {
      qs.push({ type: 'relation', question: `is the ${phrase(a)} ${rel} the ${phrase(b)}?`, answer: holds(rel, a, b) ? 'yes' : 'no' });
    }
  }
  const c = COLOR_NAMES[rng.int(COLOR_NAMES.length)]!;
  const s = SHAPE_KINDS[rng.int(SHAPE_KINDS.length)]!;
  qs.push({ type: 'exists', question: `is there a ${c} ${s}?`, answer: shapes.some((x) => x.color === c && x.shape === s) ? 'yes' : 'no' });
  return qs;
}

/** Point-in-shape test in canvas-fraction coordinates. */
function inside(s: PlacedShape, x: number, y: number): boolean {
  const dx = x - s.cx;
  const dy = y - s.cy;
  if (s.shape === 'circle') return dx * dx + dy * dy <= s.r * s.r;
  if (s.shape === 'square') return Math.abs(dx) <= s.r && Math.abs(dy) <= s.r;
  // Upward isosceles triangle inscribed in the square box: apex (0,-r), base corners (±r, r).
  if (dy > s.r || dy < -s.r) return false;
  return Math.abs(dx) <= (s.r * (dy + s.r)) / (2 * s.r);
}

const BACKGROUND = [244, 244, 240];

/** Renders a scene (RGB, anti-aliased by ss×ss supersampling per pixel). */
export function renderShapes(scene: ShapesScene, size: number, ss = 4): RawImage {
  if (!Number.isInteger(size) || size < 8) throw new Error(`shapesDataset: imageSize must be an integer >= 8, got ${size}`);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set(BACKGROUND, i * 3);
  const inv = 1 / (size * ss);
  for (const s of scene.shapes) {
    const col = SHAPE_COLORS[s.color];
    const x0 = Math.max(0, Math.floor((s.cx - s.r) * size) - 1);
    const x1 = Math.min(size - 1, Math.ceil((s.cx + s.r) * size) + 1);
    const y0 = Math.max(0, Math.floor((s.cy - s.r) * size) - 1);
    const y1 = Math.min(size - 1, Math.ceil((s.cy + s.r) * size) + 1);
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        let hits = 0;
        for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) if (inside(s, (px * ss + sx + 0.5) * inv, (py * ss + sy + 0.5) * inv)) hits++;
        if (!hits) continue;
        const a = hits / (ss * ss);
        const o = (py * size + px) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = Math.round(data[o + c]! * (1 - a) + col[c]! * a);
      }
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

export function shapesDataset(opts: ShapesOptions): Dataset {
  const { seed, size } = opts;
  if (!Number.isInteger(size) || size < 1) throw new Error(`shapesDataset: size must be a positive integer, got ${size}`);
  const imageSize = opts.imageSize ?? 64;
  const ss = opts.supersample ?? 4;
  renderShapes({ shapes: [], caption: '', questions: [] }, imageSize, 1); // validate imageSize early
  const record = (i: number): DataRecord => {
    const scene = shapesScene(seed, i, opts);
    return {
      key: `shapes-${seed}-${String(i).padStart(6, '0')}`,
      caption: scene.caption,
      image: { kind: 'raw', image: renderShapes(scene, imageSize, ss) },
      meta: { shapes: scene.shapes, ...(opts.withQuestions ? { questions: scene.questions } : {}) },
      source: `shapes(seed=${seed})[${i}]`, shard: i, offset: 0,
    };
  };
  return {
    name: `shapes:seed=${seed}`,
    indexed: true,
    async shardCount() { return size; },
    shardName: (i) => `shapes[${i}]`,
    async *readShard(i, from) { if (from === 0 && i >= 0 && i < size) yield record(i); },
    async readRecords(i, offsets) { return offsets.map(() => record(i)); },
    knownSize: () => size,
  };
}
