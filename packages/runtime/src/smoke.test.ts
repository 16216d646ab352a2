import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
describe('smoke', () => { it('adds', () => { expect(tf.add(1, 2).dataSync()[0]).toBe(3); }); });
