// Pixel conversions for V4L2 frames. YUYV from UVC cameras is BT.601 limited range (Y 16..235, Cb/Cr 16..240),
// so both paths expand to full range; GREY devices (IR) are passed through untouched.
import type { RawImage } from '../vision/types.js';

function clip(v: number): number {
  return v < 0 ? 0 : Math.min(v, 255);
}

/** Y (limited range) -> full-range grey, also the luma term of the RGB conversion. */
const Y_TO_FULL = new Uint8Array(256);
const Y_TERM = new Int32Array(256); // 298 * (Y - 16) + 128 (rounding), in 1/256 units
const R_V = new Int32Array(256); // 409 * (V - 128)
const G_U = new Int32Array(256); // -100 * (U - 128)
const G_V = new Int32Array(256); // -208 * (V - 128)
const B_U = new Int32Array(256); // 516 * (U - 128)
for (let i = 0; i < 256; i++) {
  Y_TERM[i] = 298 * (i - 16) + 128;
  Y_TO_FULL[i] = clip(Y_TERM[i]! >> 8);
  R_V[i] = 409 * (i - 128);
  G_U[i] = -100 * (i - 128);
  G_V[i] = -208 * (i - 128);
  B_U[i] = 516 * (i - 128);
}

/** Copies a GREY frame, dropping any row padding. */
export function greyFromGrey(src: Uint8Array, width: number, height: number, bytesPerLine: number, out?: Uint8Array): RawImage {
  const data = out ?? new Uint8Array(width * height);
  const stride = bytesPerLine || width;
  if (stride === width) data.set(src.subarray(0, width * height));
  else for (let y = 0; y < height; y++) data.set(src.subarray(y * stride, y * stride + width), y * width);
  return { width, height, channels: 1, data };
}

/** YUYV (Y0 U Y1 V per pixel pair) -> full-range grey from the Y samples. */
export function greyFromYuyv(src: Uint8Array, width: number, height: number, bytesPerLine: number, out?: Uint8Array): RawImage {
  const data = out ?? new Uint8Array(width * height);
  const stride = bytesPerLine || width * 2;
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = y * stride;
    const end = i + width * 2;
    for (; i < end; i += 2) data[o++] = Y_TO_FULL[src[i]!]!;
  }
  return { width, height, channels: 1, data };
}

/** YUYV -> RGB, BT.601 limited range, integer arithmetic with lookup tables. */
export function rgbFromYuyv(src: Uint8Array, width: number, height: number, bytesPerLine: number, out?: Uint8Array): RawImage {
  const data = out ?? new Uint8Array(width * height * 3);
  const stride = bytesPerLine || width * 2;
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = y * stride;
    const end = i + (width & ~1) * 2;
    for (; i < end; i += 4) {
      const u = src[i + 1]!;
      const v = src[i + 3]!;
      const rv = R_V[v]!;
      const guv = G_U[u]! + G_V[v]!;
      const bu = B_U[u]!;
      let c = Y_TERM[src[i]!]!;
      data[o] = clip((c + rv) >> 8);
      data[o + 1] = clip((c + guv) >> 8);
      data[o + 2] = clip((c + bu) >> 8);
      c = Y_TERM[src[i + 2]!]!;
      data[o + 3] = clip((c + rv) >> 8);
      data[o + 4] = clip((c + guv) >> 8);
      data[o + 5] = clip((c + bu) >> 8);
      o += 6;
    }
    if (width & 1) {
      // An odd width never happens with YUYV in practice; repeat the last pair's colour for safety.
      const c = Y_TERM[src[i]!]!;
      data[o] = clip((c + R_V[src[i + 3]!]!) >> 8);
      data[o + 1] = clip((c + G_U[src[i + 1]!]! + G_V[src[i + 3]!]!) >> 8);
      data[o + 2] = clip((c + B_U[src[i + 1]!]!) >> 8);
      o += 3;
    }
  }
  return { width, height, channels: 3, data };
}
