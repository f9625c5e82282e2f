import fs from 'node:fs/promises';
import type sharpDefault from 'sharp';

// sharp (libvips) is loaded on first use: facegated with a GREY/YUYV camera never needs it, and importing it is
// the largest single cost of the daemon's start (measured ~1 s of a 3 s start on a loaded 2-core machine).
let sharpModule: Promise<typeof sharpDefault> | undefined;
function loadSharp(): Promise<typeof sharpDefault> {
  return (sharpModule ??= import('sharp').then((m) => m.default));
}
import type { RawImage } from './types.js';

/**
 * Largest image we accept, in pixels and per side. A camera frame or a photo is far below this; anything larger
 * is refused before a buffer is allocated, so a hostile header cannot make us allocate gigabytes.
 */
export const MAX_PIXELS = 50_000_000;
export const MAX_SIDE = 20_000;

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

function checkDims(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDecodeError(`${what}: bad dimensions ${width}x${height}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new ImageDecodeError(`${what}: ${width}x${height} is too large (limit ${MAX_SIDE} per side, ${MAX_PIXELS} pixels)`);
  }
}

/** Wraps a raw camera frame (RGB or 8-bit grey), checking that the buffer holds exactly the stated pixels. */
export function rawFrame(data: Uint8Array, width: number, height: number, channels: 1 | 3): RawImage {
  checkDims(width, height, 'raw frame');
  if (channels !== 1 && channels !== 3) throw new ImageDecodeError(`raw frame: channels must be 1 or 3, not ${String(channels)}`);
  const need = width * height * channels;
  if (data.length !== need) {
    throw new ImageDecodeError(`raw frame: ${width}x${height}x${channels} needs ${need} bytes, got ${data.length}`);
  }
  return { width, height, channels, data };
}

// ---------------------------------------------------------------------------------------------------------------
// PNM (PGM/PPM): sharp's libvips build has no PNM loader, and ORL and many IR tools write PGM.

const WS = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);

/** True when the bytes start like a PGM/PPM file (P2, P3, P5 or P6). */
export function isPnm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && (bytes[1] === 0x32 || bytes[1] === 0x33 || bytes[1] === 0x35 || bytes[1] === 0x36);
}

class HeaderReader {
  pos = 2;
  constructor(private readonly b: Uint8Array) {}

  /** Skips whitespace and `#` comments (which run to the end of the line), as the Netpbm spec allows. */
  private skip(): void {
    const b = this.b;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (WS.has(c)) this.pos++;
      else if (c === 0x23) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  /** Reads one unsigned decimal integer token; null at end of data. */
  uint(what: string): number {
    this.skip();
    const b = this.b;
    const start = this.pos;
    let v = 0;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      if (v > 1e9) throw new ImageDecodeError(`PNM: ${what} is too large`);
      this.pos++;
    }
    if (this.pos === start) {
      if (this.pos >= b.length) throw new ImageDecodeError(`PNM: truncated (expected ${what})`);
      throw new ImageDecodeError(`PNM: expected a number for ${what} at byte ${start}`);
    }
    if (this.pos < b.length) {
      const c = b[this.pos]!;
      if (!WS.has(c) && c !== 0x23) throw new ImageDecodeError(`PNM: unexpected byte 0x${c.toString(16)} in ${what} at byte ${this.pos}`);
    }
    return v;
  }
}

/**
 * Parses binary (P5 grey, P6 colour) and ASCII (P2, P3) Netpbm images. maxval up to 65535; samples are scaled
 * to 8 bits. Grey stays one channel.
 */
export function decodePnm(bytes: Uint8Array): RawImage {
  if (!isPnm(bytes)) throw new ImageDecodeError('PNM: not a P2/P3/P5/P6 file');
  const kind = bytes[1]!;
  const channels: 1 | 3 = kind === 0x32 || kind === 0x35 ? 1 : 3;
  const binary = kind === 0x35 || kind === 0x36;
  const h = new HeaderReader(bytes);
  const width = h.uint('width');
  const height = h.uint('height');
  checkDims(width, height, 'PNM');
  const maxval = h.uint('maxval');
  if (maxval < 1 || maxval > 65535) throw new ImageDecodeError(`PNM: maxval ${maxval} outside 1..65535`);
  const n = width * height * channels;
  const out = new Uint8Array(n);
  // Precomputed scale table: maxval can be anything, e.g. 15 or 1023, not just 255 or 65535.
  const lut = new Uint8Array(maxval + 1);
  for (let v = 0; v <= maxval; v++) lut[v] = Math.round((v * 255) / maxval);

  if (binary) {
    // Exactly one whitespace byte separates maxval from the raster.
    let pos = h.pos;
    if (pos >= bytes.length || !WS.has(bytes[pos]!)) throw new ImageDecodeError('PNM: truncated header (no raster)');
    pos++;
    const bps = maxval > 255 ? 2 : 1;
    const need = n * bps;
    if (bytes.length - pos < need) {
      throw new ImageDecodeError(`PNM: truncated raster: ${width}x${height}x${channels} needs ${need} bytes, file has ${bytes.length - pos}`);
    }
    if (bps === 1) {
      if (maxval === 255) out.set(bytes.subarray(pos, pos + n));
      else {
        for (let i = 0; i < n; i++) {
          const v = bytes[pos + i]!;
          if (v > maxval) throw new ImageDecodeError(`PNM: sample ${v} exceeds maxval ${maxval}`);
          out[i] = lut[v]!;
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = (bytes[pos + 2 * i]! << 8) | bytes[pos + 2 * i + 1]!;
        if (v > maxval) throw new ImageDecodeError(`PNM: sample ${v} exceeds maxval ${maxval}`);
        out[i] = lut[v]!;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      let v: number;
      try {
        v = h.uint('sample');
      } catch (err) {
        throw new ImageDecodeError(`PNM: ASCII raster ends after ${i} of ${n} samples (${(err as Error).message})`);
      }
      if (v > maxval) throw new ImageDecodeError(`PNM: sample ${v} exceeds maxval ${maxval}`);
      out[i] = lut[v]!;
    }
  }
  return { width, height, channels, data: out };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Decodes JPEG, PNG, WebP, TIFF, GIF … (anything sharp reads) and PGM/PPM into 8-bit pixels. EXIF orientation is
 * applied; alpha is dropped; grey images stay one channel, everything else becomes sRGB.
 */
export async function decodeImage(bytes: Uint8Array): Promise<RawImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty image data');
  if (isPnm(bytes)) return decodePnm(bytes);
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sharp = await loadSharp();
  try {
    const opts = { limitInputPixels: MAX_PIXELS, failOn: 'error' as const };
    const meta = await sharp(input, opts).metadata();
    const w = meta.autoOrient?.width ?? meta.width;
    const h = meta.autoOrient?.height ?? meta.height;
    if (w === undefined || h === undefined) throw new ImageDecodeError('image has no dimensions');
    checkDims(w, h, meta.format ?? 'image');
    const grey = meta.space === 'b-w' || meta.space === 'grey16';
    const { data, info } = await sharp(input, opts)
      .rotate()
      .toColourspace(grey ? 'b-w' : 'srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) throw new ImageDecodeError(`decoder gave ${info.channels} channels`);
    if (data.length !== info.width * info.height * info.channels) throw new ImageDecodeError('decoder gave a short buffer');
    return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`cannot decode image: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads and decodes an image file; errors name the file. */
export async function decodeFile(file: string): Promise<RawImage> {
  const bytes = await fs.readFile(file);
  try {
    return await decodeImage(bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ImageDecodeError(`${file}: ${msg}`);
  }
}

/** Converts to one grey channel (BT.601 luma, integer arithmetic); returns the image itself if already grey. */
export function toGrey(img: RawImage): RawImage {
  if (img.channels === 1) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (d[j]! * 77 + d[j + 1]! * 150 + d[j + 2]! * 29 + 128) >> 8;
  return { width: img.width, height: img.height, channels: 1, data: out };
}
