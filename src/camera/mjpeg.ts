// MJPEG frames decoded with sharp. Many UVC cameras send JPEGs without Huffman tables (DHT), relying on the
// standard ones; sharp's libjpeg-turbo falls back to those by itself (tested), so frames go in as they come.
// sharp is imported on first use: opening a GREY or YUYV camera should not pay for loading libvips.
import type sharpDefault from 'sharp';
import type { RawImage } from '../vision/types.js';

type Sharp = typeof sharpDefault;
let sharpModule: Promise<Sharp> | null = null;

/** Starts loading sharp (idempotent), so the first MJPEG frame does not wait for it. */
export function preloadMjpegDecoder(): Promise<Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

/** Decodes one MJPEG frame to grey or RGB. */
export async function decodeMjpeg(jpeg: Uint8Array, channels: 1 | 3): Promise<RawImage> {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  const sharp = await preloadMjpegDecoder();
  let img = sharp(jpeg, { failOn: 'error' });
  img = channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`MJPEG decoded to ${info.channels} channels, expected ${channels}`);
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
