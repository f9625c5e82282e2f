// Private stop-gap decoder for replay until the shared src/vision/decode.ts lands on main: sharp for
// JPEG/PNG/WebP, a small parser for binary PGM/PPM (which sharp's bundled libvips does not read).
import fs from 'node:fs/promises';
import type sharpDefault from 'sharp';
import type { RawImage } from '../vision/types.js';

let sharpModule: Promise<typeof sharpDefault> | null = null;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/** Parses binary PGM (P5) and PPM (P6); 16-bit samples are scaled to 8 bits. */
export function parsePnm(buf: Uint8Array): RawImage {
  if (buf.length < 2 || buf[0] !== 0x50 || (buf[1] !== 0x35 && buf[1] !== 0x36)) {
    throw new Error('not a binary PGM/PPM (P5/P6)');
  }
  const channels = buf[1] === 0x35 ? 1 : 3;
  let i = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (i < buf.length && isSpace(buf[i]!)) i++;
    if (buf[i] === 0x23) {
      while (i < buf.length && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
      continue;
    }
    let v = 0;
    let digits = 0;
    while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39 && digits < 6) {
      v = v * 10 + (buf[i]! - 0x30);
      i++;
      digits++;
    }
    if (digits === 0) throw new Error('PNM header is malformed');
    fields.push(v);
  }
  if (i >= buf.length || !isSpace(buf[i]!)) throw new Error('PNM header is malformed');
  i++; // exactly one whitespace byte before the raster
  const [width, height, maxval] = fields as [number, number, number];
  if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new Error(`PNM size ${width}x${height} out of range`);
  if (maxval < 1 || maxval > 65535) throw new Error(`PNM maxval ${maxval} out of range`);
  const n = width * height * channels;
  const bytesPerSample = maxval > 255 ? 2 : 1;
  if (buf.length - i < n * bytesPerSample) throw new Error('PNM raster is truncated');
  const data = new Uint8Array(n);
  if (bytesPerSample === 1 && maxval === 255) data.set(buf.subarray(i, i + n));
  else {
    for (let k = 0; k < n; k++) {
      const s = bytesPerSample === 1 ? buf[i + k]! : (buf[i + 2 * k]! << 8) | buf[i + 2 * k + 1]!;
      data[k] = Math.min(255, Math.round((s * 255) / maxval));
    }
  }
  return { width, height, channels, data };
}

/** Decodes bytes to 8-bit grey (1 channel) or RGB (3 channels); alpha is dropped. */
export async function decodeImageBytes(buf: Uint8Array): Promise<RawImage> {
  if (buf.length >= 2 && buf[0] === 0x50 && (buf[1] === 0x35 || buf[1] === 0x36)) return parsePnm(buf);
  // Loaded on first use: a directory of PGM files (the ORL faces) never needs libvips.
  sharpModule ??= import('sharp').then((m) => m.default);
  const input = (await sharpModule)(buf, { failOn: 'error' });
  // sharp converts to sRGB on output; keep grey sources (IR captures saved as grey JPEG/PNG) at one channel.
  const meta = await input.metadata();
  const grey = meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w';
  const pipeline = grey ? input.removeAlpha().toColourspace('b-w') : input.removeAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1 || info.channels === 3) {
    return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  throw new Error(`unsupported channel count ${info.channels}`);
}

export async function decodeImageFile(file: string): Promise<RawImage> {
  return decodeImageBytes(await fs.readFile(file));
}
