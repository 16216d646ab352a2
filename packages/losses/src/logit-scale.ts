// Temperature handling shared by the trainer: CLIP clamps the learnable log-scale after each optimizer step.
import { tf } from '@duet/runtime';

/** Default initial values (open_clip / big_vision): CLIP t′ = ln(1/0.07); SigLIP t′ = ln 10, b = −10. */
export const LOGIT_INIT = {
  clip: { logitScale: Math.log(1 / 0.07) },
  siglip: { logitScale: Math.log(10), logitBias: -10 },
} as const;

/** Clamps the log-scale variable in place to [min, max] (open_clip: 0 ≤ t′ ≤ ln 100). */
export function clampLogitScale(v: tf.Variable, max = Math.log(100), min = 0): void {
  if (!(v instanceof tf.Variable)) throw new TypeError('clampLogitScale: expected a tf.Variable holding the log scale');
  if (!(min <= max)) throw new Error(`clampLogitScale: expected min ≤ max, got min=${min}, max=${max}`);
  tf.tidy(() => v.assign(tf.clipByValue(v, min, max)));
}
