import type { RawImage } from './types.js';

/**
 * Separable resampling coefficients for one axis: for every output index, the first input index and the weights
 * of the inputs it averages. Downscaling averages the input area each output pixel covers (box filter with
 * fractional edges, like OpenCV's INTER_AREA); upscaling is bilinear with aligned pixel centres.
 */
export interface AxisCoeffs {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `taps` weights per output, normalised to sum 1. */
  readonly weights: Float32Array;
  readonly taps: number;
}

export function axisCoeffs(inSize: number, outSize: number, scale: number = outSize / inSize): AxisCoeffs {
  const area = scale < 1;
  const taps = area ? Math.ceil(1 / scale) + 2 : 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    let lo: number;
    let n: number;
    if (area) {
      const e0 = o / scale;
      const e1 = Math.min((o + 1) / scale, inSize);
      lo = Math.min(Math.floor(e0), inSize - 1);
      const hi = Math.max(lo, Math.min(Math.ceil(e1) - 1, inSize - 1));
      n = Math.min(hi - lo + 1, taps);
      for (let k = 0; k < n; k++) {
        const i = lo + k;
        weights[o * taps + k] = Math.max(0, Math.min(i + 1, e1) - Math.max(i, e0));
      }
    } else {
      const centre = Math.min(Math.max((o + 0.5) / scale - 0.5, 0), inSize - 1);
      lo = Math.min(Math.floor(centre), Math.max(inSize - 2, 0));
      n = inSize > 1 ? 2 : 1;
      const f = centre - lo;
      weights[o * taps] = n === 2 ? 1 - f : 1;
      if (n === 2) weights[o * taps + 1] = f;
    }
    let sum = 0;
    for (let k = 0; k < n; k++) sum += weights[o * taps + k]!;
    if (!(sum > 0)) {
      weights[o * taps] = 1;
      n = 1;
      sum = 1;
    }
    for (let k = 0; k < n; k++) weights[o * taps + k]! /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, taps };
}

/** Where the image landed inside the square letterbox, to map model coordinates back to source pixels. */
export interface Letterbox {
  /** Model pixels per source pixel, per axis (equal up to rounding of the resized extent). */
  readonly scaleX: number;
  readonly scaleY: number;
  /** Offset of the image's top-left corner inside the square, in model pixels. */
  readonly padX: number;
  readonly padY: number;
  readonly size: number;
}

export function letterboxGeometry(width: number, height: number, size: number): Letterbox & { outW: number; outH: number } {
  const scale = size / Math.max(width, height);
  const outW = Math.max(1, Math.min(size, Math.round(width * scale)));
  const outH = Math.max(1, Math.min(size, Math.round(height * scale)));
  return { scaleX: outW / width, scaleY: outH / height, padX: Math.floor((size - outW) / 2), padY: Math.floor((size - outH) / 2), size, outW, outH };
}

/**
 * Letterboxes an image into a square float tensor (NHWC, 3 channels, values (v / 127.5 - 1)), the input BlazeFace
 * wants. Grey is replicated to three channels. Buffers and coefficient tables are reused between calls with the
 * same geometry, so a camera stream allocates nothing per frame.
 */
export class LetterboxResizer {
  readonly size: number;
  readonly output: Float32Array;
  private tmp = new Float32Array(0);
  private key = '';
  private cx: AxisCoeffs | undefined;
  private cy: AxisCoeffs | undefined;
  private geom: (Letterbox & { outW: number; outH: number }) | undefined;
  /** Value of padding in the normalised range; -1 is black. */
  private readonly padValue: number;

  constructor(size: number, padValue = -1) {
    this.size = size;
    this.padValue = padValue;
    this.output = new Float32Array(size * size * 3);
  }

  run(img: RawImage): Letterbox {
    const { width, height, channels, data } = img;
    const key = `${width}x${height}`;
    if (key !== this.key || !this.geom || !this.cx || !this.cy) {
      this.geom = letterboxGeometry(width, height, this.size);
      const g = this.geom;
      this.cx = axisCoeffs(width, g.outW, g.scaleX);
      this.cy = axisCoeffs(height, g.outH, g.scaleY);
      this.key = key;
      this.output.fill(this.padValue);
    }
    const g = this.geom;
    const cx = this.cx;
    const cy = this.cy;
    const outW = g.outW;
    const outH = g.outH;
    const size = this.size;
    // Horizontal pass over only the source rows the vertical pass will read.
    const rowLen = outW * channels;
    if (this.tmp.length < height * rowLen) this.tmp = new Float32Array(height * rowLen);
    const tmp = this.tmp;
    const { start: ys, count: yc, weights: yw, taps: yt } = cy;
    const { start: xs, count: xc, weights: xw, taps: xt } = cx;
    const rowNeeded = new Uint8Array(height);
    for (let o = 0; o < outH; o++) for (let k = 0; k < yc[o]!; k++) if (yw[o * yt + k]! !== 0) rowNeeded[ys[o]! + k] = 1;
    for (let y = 0; y < height; y++) {
      if (!rowNeeded[y]) continue;
      const srcRow = y * width * channels;
      const dstRow = y * rowLen;
      if (channels === 1) {
        for (let o = 0; o < outW; o++) {
          const s = srcRow + xs[o]!;
          const wb = o * xt;
          const n = xc[o]!;
          let acc = 0;
          for (let k = 0; k < n; k++) acc += data[s + k]! * xw[wb + k]!;
          tmp[dstRow + o] = acc;
        }
      } else {
        for (let o = 0; o < outW; o++) {
          let s = srcRow + xs[o]! * 3;
          const wb = o * xt;
          const n = xc[o]!;
          let r = 0;
          let gg = 0;
          let b = 0;
          for (let k = 0; k < n; k++, s += 3) {
            const w = xw[wb + k]!;
            r += data[s]! * w;
            gg += data[s + 1]! * w;
            b += data[s + 2]! * w;
          }
          const d = dstRow + o * 3;
          tmp[d] = r;
          tmp[d + 1] = gg;
          tmp[d + 2] = b;
        }
      }
    }
    const out = this.output;
    const k1 = 1 / 127.5;
    for (let o = 0; o < outH; o++) {
      const y0 = ys[o]!;
      const n = yc[o]!;
      const wb = o * yt;
      let d = ((o + g.padY) * size + g.padX) * 3;
      if (channels === 1) {
        for (let x = 0; x < outW; x++, d += 3) {
          let acc = 0;
          for (let k = 0; k < n; k++) acc += tmp[(y0 + k) * rowLen + x]! * yw[wb + k]!;
          const v = acc * k1 - 1;
          out[d] = v;
          out[d + 1] = v;
          out[d + 2] = v;
        }
      } else {
        for (let x = 0; x < outW; x++, d += 3) {
          let r = 0;
          let gg = 0;
          let b = 0;
          for (let k = 0; k < n; k++) {
            const s = (y0 + k) * rowLen + x * 3;
            const w = yw[wb + k]!;
            r += tmp[s]! * w;
            gg += tmp[s + 1]! * w;
            b += tmp[s + 2]! * w;
          }
          out[d] = r * k1 - 1;
          out[d + 1] = gg * k1 - 1;
          out[d + 2] = b * k1 - 1;
        }
      }
    }
    return { scaleX: g.scaleX, scaleY: g.scaleY, padX: g.padX, padY: g.padY, size };
  }
}
