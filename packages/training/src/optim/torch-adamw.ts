// Test reference: torch.optim.AdamW's update written out for one coordinate (bias-corrected moments, decoupled
// weight decay applied before the step), independent of the optimizer under test.

export interface AdamWHyper {
  lr: number;
  wd: number;
  eps: number;
  b1: number;
  b2: number;
}

/** The parameter after torch.optim.AdamW steps with gradients `gs` (already scaled), from `p0`. */
export function torchAdamW(p0: number, gs: number[], decay: boolean, h: AdamWHyper): number {
  let p = p0, m = 0, v = 0;
  gs.forEach((g, i) => {
    const t = i + 1;
    if (decay) p *= 1 - h.lr * h.wd;
    m = h.b1 * m + (1 - h.b1) * g;
    v = h.b2 * v + (1 - h.b2) * g * g;
    p -= (h.lr * (m / (1 - h.b1 ** t))) / (Math.sqrt(v / (1 - h.b2 ** t)) + h.eps);
  });
  return p;
}
