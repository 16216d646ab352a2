// A forward pass recorded on the autograd tape now, backpropagated later with an upstream gradient that is only
// known after an asynchronous step (the distributed loss's collectives). tf.grads/variableGrads run forward and
// backward in one synchronous call, which would force DDP to forward every batch twice (once for the features
// the loss exchanges, once under the tape): ~1/3 more compute per step. This splits TensorFlow.js's own
// Engine.gradients() in two: the forward records the tape exactly as gradients() does, the backward then runs
// gradients() over that tape: with gradientDepth −1 its startTape() keeps our tape (it only clears at depth 0)
// and its backward runs at depth −1, i.e. not recorded (at depth ≥ 1 every backward op would be taped and its
// inputs cloned, as for higher-order gradients: measured +20% step time).
//
// It relies on Engine internals of @tensorflow/tfjs 4.x (state.activeTape, state.gradientDepth, start/endTape);
// `deferredBackwardSupported()` checks for them and callers fall back to the re-forward path when absent.
import { tf } from '@duet/runtime';

interface TapeNode {
  saved?: tf.Tensor[];
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

const engine = (): EngineInternals => tf.engine() as unknown as EngineInternals;

/** Whether this TensorFlow.js exposes the engine internals the deferred backward needs. */
export function deferredBackwardSupported(): boolean {
  const e = engine() as Partial<EngineInternals>;
  return typeof e.startTape === 'function' && typeof e.endTape === 'function' && typeof e.gradients === 'function' &&
    !!e.state && typeof e.state.gradientDepth === 'number' && 'activeTape' in e.state;
}

export interface RecordedForward {
  /** The forward's output (owned by the recording; disposed by backward() or release()). */
  readonly output: tf.Tensor;
  /** Gradients of sum(output · dy) w.r.t. `xs` (undefined where output does not depend on x); releases the tape. */
  backward(dy: tf.Tensor): (tf.Tensor | undefined)[];
  /** Drops the tape without a backward pass (error paths). */
  release(): void;
}

let open = false;

/**
 * Runs `f` with the tape on and keeps the tape for one later `backward(dy)`. Only one recording may be open at a
 * time, and no other gradient computation may run until it is backpropagated or released (the tape is global).
 */
export function recordForward(f: () => tf.Tensor, xs: tf.Tensor[]): RecordedForward {
  if (open) throw new Error('recordForward: a recorded forward is still open (backward() or release() it first)');
  const e = engine();
  if (e.state.gradientDepth !== 0) throw new Error('recordForward: cannot record inside another gradient computation');
  e.startTape(); // gradientDepth 0 -> 1: a fresh activeTape
  let output: tf.Tensor;
  try {
    output = tf.tidy(f);
  } catch (err) {
    e.endTape();
    dropTape(e);
    throw err;
  } finally {
    if ((e.state.gradientDepth as number) === 1) e.endTape();
  }
  const tape = e.state.activeTape;
  open = true;
  let done = false;
  const finish = () => {
    done = true;
    open = false;
  };
  return {
    output,
    backward(dy) {
      if (done) throw new Error('recordForward: backward() called twice');
      if (dy.dtype !== 'float32' || dy.shape.join(',') !== output.shape.join(',')) {
        throw new Error(`recordForward: dy must be float32 [${output.shape}], got ${dy.dtype} [${dy.shape}]`);
      }
      if (e.state.gradientDepth !== 0) throw new Error('recordForward: another gradient computation is running');
      // Re-enter the recorded tape: gradients()' startTape() sees depth −1 ≠ 0 and keeps activeTape, its forward
      // is the identity on `output` (records nothing), and it backpropagates `dy` through our nodes at depth −1.
      e.state.activeTape = tape;
      e.state.gradientDepth = -1;
      try {
        const { value, grads } = e.gradients(() => output, xs, dy, true);
        if (value !== output) value.dispose();
        return grads;
      } finally {
        e.state.gradientDepth = 0;
        dropTape(e);
        output.dispose();
        finish();
      }
    },
    release() {
      if (done) return;
      e.state.activeTape = tape;
      dropTape(e);
      output.dispose();
      finish();
    },
  };
}

/** What gradients() does after a top-level backward: free the tensors the tape saved for the backward pass. */
function dropTape(e: EngineInternals): void {
  for (const node of e.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
  e.state.activeTape = null;
}
