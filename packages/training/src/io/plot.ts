// Training curves as SVG (loss, learning rate, eval accuracy vs step), rendered to PNG with sharp.
import type { MetricsRecord } from './metrics-log.js';

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

interface Panel {
  title: string;
  series: Series[];
  log?: boolean;
}

const W = 420, H = 260, PAD = { l: 58, r: 14, t: 28, b: 36 };

export function curvesSvg(records: MetricsRecord[], title = 'training'): string {
  const num = (r: MetricsRecord, k: string) => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : undefined);
  const pick = (k: string): [number, number][] => records.flatMap((r) => (num(r, k) === undefined ? [] : [[r.step, num(r, k)!] as [number, number]]));
  const panels: Panel[] = [
    { title: 'loss', series: [{ name: 'train loss', points: pick('loss'), color: '#1f77b4' }] },
    { title: 'learning rate', series: [{ name: 'lr', points: pick('lr'), color: '#ff7f0e' }] },
    {
      title: 'eval',
      series: [
        { name: 'zero-shot top-1', points: pick('zeroshot_top1'), color: '#2ca02c' },
        { name: 'i→t R@1', points: pick('i2t_r1'), color: '#d62728' },
        { name: 't→i R@1', points: pick('t2i_r1'), color: '#9467bd' },
      ],
    },
    { title: 'logit scale (exp)', series: [{ name: 'scale', points: pick('logit_scale'), color: '#8c564b' }] },
  ];
  const body = panels.map((p, i) => `<g transform="translate(${(i % 2) * W},${Math.floor(i / 2) * H + 24})">${panelSvg(p)}</g>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H + 24}" font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="white"/><text x="${W}" y="17" text-anchor="middle" font-size="14">${esc(title)}</text>${body}</svg>`;
}

function panelSvg(p: Panel): string {
  const all = p.series.flatMap((s) => s.points);
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  let out = `<text x="${PAD.l}" y="16" font-size="12">${esc(p.title)}</text><rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`;
  if (all.length === 0) return out + `<text x="${PAD.l + iw / 2}" y="${PAD.t + ih / 2}" text-anchor="middle" fill="#999">no data</text>`;
  let [x0, x1] = extent(all.map((q) => q[0]));
  let [y0, y1] = extent(all.map((q) => q[1]));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * iw;
  const sy = (y: number) => PAD.t + ih - ((y - y0) / (y1 - y0)) * ih;
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4, xv = x0 + ((x1 - x0) * k) / 4;
    out += `<text x="${PAD.l - 4}" y="${sy(yv) + 4}" text-anchor="end">${fmt(yv)}</text>`;
    out += `<text x="${sx(xv)}" y="${PAD.t + ih + 14}" text-anchor="middle">${fmt(xv)}</text>`;
  }
  out += `<text x="${PAD.l + iw / 2}" y="${H - 6}" text-anchor="middle" fill="#555">step</text>`;
  p.series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map((q, j) => `${j ? 'L' : 'M'}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join('');
    out += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
    if (s.points.length < 40) out += s.points.map((q) => `<circle cx="${sx(q[0]).toFixed(1)}" cy="${sy(q[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`).join('');
    out += `<text x="${PAD.l + iw - 4}" y="${PAD.t + 14 + 13 * i}" text-anchor="end" fill="${s.color}">${esc(s.name)}</text>`;
  });
  return out;
}

function extent(v: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  return [lo, hi];
}
function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-2 || a >= 1e4) ? v.toExponential(1) : +v.toPrecision(3) + '';
}
function esc(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** Render an SVG string to PNG bytes (sharp/librsvg). */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}
