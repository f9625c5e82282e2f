import type { RocPoint } from './metrics.js';

export interface RocSeries {
  label: string;
  points: readonly RocPoint[];
}

const W = 640;
const H = 440;
const M = { left: 64, right: 20, top: 30, bottom: 52 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A self-contained SVG of ROC curves: TAR against FAR on a log axis, which is where face unlock lives (1e-3 and
 * below). Points closer than half a pixel are merged so a 300k-impostor ROC stays a few kB.
 */
export function rocSvg(series: readonly RocSeries[], title = 'ROC'): string {
  let minFar = 1;
  let minTar = 1;
  for (const s of series) {
    for (const p of s.points) if (p.far > 0 && p.far < minFar) minFar = p.far;
  }
  const xDecades = Math.max(1, Math.ceil(-Math.log10(minFar)));
  const xMin = 10 ** -xDecades;
  for (const s of series) {
    for (const p of s.points) if (p.far >= xMin || p.far === 0) minTar = Math.min(minTar, p.tar);
  }
  // Show from the lowest TAR reached on the plotted range, rounded down to 0.1 (the interesting band is narrow).
  const yMin = Math.max(0, Math.floor(minTar * 10) / 10);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (far: number): number => M.left + ((Math.log10(Math.max(far, xMin)) + xDecades) / xDecades) * pw;
  const y = (tar: number): number => M.top + (1 - (Math.max(tar, yMin) - yMin) / (1 - yMin || 1)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  );
  for (let d = 0; d <= xDecades; d++) {
    const far = 10 ** (d - xDecades);
    const px = x(far).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${M.top}" x2="${px}" y2="${M.top + ph}" stroke="#ddd"/>`,
      `<text x="${px}" y="${M.top + ph + 16}" text-anchor="middle">1e${d - xDecades}</text>`,
    );
  }
  const yStep = 1 - yMin > 0.5 ? 0.1 : 1 - yMin > 0.2 ? 0.05 : 0.02;
  for (let t = yMin; t <= 1 + 1e-9; t += yStep) {
    const py = y(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" y1="${py}" x2="${M.left + pw}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${t.toFixed(2)}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">false accept rate (log)</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">true accept rate</text>`,
  );
  series.forEach((s, si) => {
    const colour = COLOURS[si % COLOURS.length]!;
    const pts: string[] = [];
    let lx = -1;
    let ly = -1;
    const pushPt = (far: number, tar: number, force = false): void => {
      const px = x(far);
      const py = y(tar);
      if (force || Math.abs(px - lx) >= 0.5 || Math.abs(py - ly) >= 0.5) {
        pts.push(`${px.toFixed(1)},${py.toFixed(1)}`);
        lx = px;
        ly = py;
      }
    };
    // The curve is a staircase in FAR: each point's TAR holds until the next point's FAR.
    let prevTar = 0;
    let started = false;
    for (const p of s.points) {
      if (p.far >= xMin) {
        if (!started) pushPt(xMin, prevTar, true);
        started = true;
        pushPt(p.far, prevTar);
        pushPt(p.far, p.tar);
      }
      prevTar = p.tar;
    }
    pushPt(1, prevTar, true);
    const ly0 = M.top + 18 + si * 16;
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`,
      `<line x1="${M.left + pw - 150}" y1="${ly0 + 14}" x2="${M.left + pw - 130}" y2="${ly0 + 14}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${M.left + pw - 125}" y="${ly0 + 14}" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
