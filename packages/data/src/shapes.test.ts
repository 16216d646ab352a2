import { describe, expect, it } from 'vitest';
import { GRID_CELLS, SHAPE_COLORS, relation, renderShapes, shapesDataset, shapesScene, type PlacedShape } from './shapes.js';
import { SkipLog } from './skip-log.js';

const px = (img: { data: Uint8Array | Uint8ClampedArray; width: number }, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe('shapes dataset', () => {
  it('is a pure function of (seed, index)', async () => {
    const a = shapesDataset({ seed: 5, size: 10, imageSize: 32, withQuestions: true });
    const b = shapesDataset({ seed: 5, size: 10, imageSize: 32, withQuestions: true });
    const ctx = { epoch: 0, skips: new SkipLog() };
    const [ra] = await a.readRecords(7, [0], ctx);
    const [rb] = await b.readRecords(7, [0], ctx);
    expect(ra!.caption).toBe(rb!.caption);
    expect(ra!.meta).toEqual(rb!.meta);
    expect((ra!.image as { image: { data: Uint8Array } }).image.data).toEqual((rb!.image as { image: { data: Uint8Array } }).image.data);
    expect(shapesScene(6, 7).caption === ra!.caption && shapesScene(6, 8).caption === shapesScene(5, 8).caption).toBe(false);
  });

  it('draws each shape in its named colour at its position, with anti-aliased edges', () => {
    for (let i = 0; i < 20; i++) {
      const scene = shapesScene(1, i);
      const img = renderShapes(scene, 64);
      for (const s of scene.shapes) {
        // The centroid lies inside all three shapes (triangle: slightly below its box centre).
        const x = Math.floor(s.cx * 64);
        const y = Math.floor((s.cy + (s.shape === 'triangle' ? s.r / 3 : 0)) * 64);
        expect(px(img, x, y)).toEqual([...SHAPE_COLORS[s.color]]);
      }
      expect(scene.caption.startsWith(`a ${scene.shapes[0]!.color} ${scene.shapes[0]!.shape}`)).toBe(true);
    }
    // A circle's rim has pixels strictly between background and fill.
    const circle: PlacedShape = { color: 'red', shape: 'circle', row: 1, col: 1, cx: 0.5, cy: 0.5, r: 0.3 };
    const img = renderShapes({ shapes: [circle], caption: '', questions: [] }, 32);
    const reds = new Set<number>();
    for (let k = 0; k < 32 * 32; k++) reds.add(img.data[k * 3 + 1]!);
    expect([...reds].some((g) => g > SHAPE_COLORS.red[1] && g < 240)).toBe(true);
  });

  it('captions and answers agree with the geometry', () => {
    const words = ['zero', 'one', 'two', 'three'];
    let relations = 0;
    for (let i = 0; i < 100; i++) {
      const { shapes, caption, questions } = shapesScene(3, i);
      if (shapes.length >= 2) {
        const [a, b] = shapes as [PlacedShape, PlacedShape];
        expect(caption).toContain(`a ${a.color} ${a.shape} ${relation(a, b)} a ${b.color} ${b.shape}`);
        const rel = relation(a, b);
        if (rel === 'left of') expect(a.cx).toBeLessThan(b.cx);
        if (rel === 'above') expect(a.cy).toBeLessThan(b.cy);
        relations++;
      }
      for (const q of questions) {
        if (q.type === 'count') expect(q.answer).toBe(words[shapes.length]);
        if (q.type === 'color') expect(shapes.find((s) => q.question === `what color is the ${s.shape}?`)?.color).toBe(q.answer);
        if (q.type === 'shape') expect(shapes.find((s) => q.question === `what shape is the ${s.color} object?`)?.shape).toBe(q.answer);
        if (q.type === 'relation') {
          const m = /^is the (\w+) (\w+) (left of|right of|above|below) the (\w+) (\w+)\?$/.exec(q.question)!;
          const a = shapes.find((s) => s.color === m[1] && s.shape === m[2])!;
          const b = shapes.find((s) => s.color === m[4] && s.shape === m[5])!;
          const truth = m[3] === 'left of' ? a.cx < b.cx : m[3] === 'right of' ? a.cx > b.cx : m[3] === 'above' ? a.cy < b.cy : a.cy > b.cy;
          // Distinct grid cells: geometric truth and the grid answer agree whenever the cells differ on that axis.
          if ((m[3]!.includes('of') ? a.col !== b.col : a.row !== b.row)) expect(q.answer).toBe(truth ? 'yes' : 'no');
          else expect(q.answer).toBe('no');
        }
      }
    }
    expect(relations).toBeGreaterThan(30);
  });

  it('location questions name each object\'s grid cell and leave the other questions unchanged', () => {
    let n = 0;
    for (let i = 0; i < 50; i++) {
      const plain = shapesScene(4, i);
      const withLoc = shapesScene(4, i, { withLocations: true });
      const locs = withLoc.questions.filter((q) => q.type === 'location');
      expect(withLoc.questions.filter((q) => q.type !== 'location')).toEqual(plain.questions);
      expect(locs).toHaveLength(plain.shapes.length);
      for (const q of locs) {
        const m = /^where is the (\w+) (\w+)\?$/.exec(q.question)!;
        const s = plain.shapes.find((x) => x.color === m[1] && x.shape === m[2])!;
        // The cell from the drawn centre (not the stored row/col): the answer agrees with the picture.
        const [row, col] = [Math.floor(s.cy * 3), Math.floor(s.cx * 3)];
        expect(q.answer).toBe(['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right'][row * 3 + col]);
        n++;
      }
    }
    expect(n).toBeGreaterThan(60);
    expect(GRID_CELLS).toHaveLength(9);
  });

  it('validates options', () => {
    expect(() => shapesDataset({ seed: 0, size: 0 })).toThrow(/size must be a positive integer/);
    expect(() => shapesDataset({ seed: 0, size: 3, imageSize: 4 })).toThrow(/imageSize/);
    expect(() => shapesScene(0, 0, { shapeCount: [2, 12] })).toThrow(/shapeCount/);
  });
});
