import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage, decodePnm, ImageDecodeError, rawFrame, toGrey, MAX_SIDE } from '../src/vision/decode.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

test('P5 with comments in the header decodes to one grey channel', () => {
  const img = decodePnm(cat(enc('P5\n# made by a camera\n3 # width\n2\n# maxval next\n255\n'), new Uint8Array([0, 10, 20, 30, 40, 255])));
  assert.equal(img.channels, 1);
  assert.equal(img.width, 3);
  assert.equal(img.height, 2);
  assert.deepEqual([...img.data], [0, 10, 20, 30, 40, 255]);
});

test('ASCII P2 and P3, and a maxval other than 255, scale to 8 bits', () => {
  const g = decodePnm(enc('P2 # grey\n2 1\n15\n0 15\n'));
  assert.deepEqual([...g.data], [0, 255]);
  const c = decodePnm(enc('P3\n1 1 100\n# comment between samples\n100 50 0'));
  assert.equal(c.channels, 3);
  assert.deepEqual([...c.data], [255, 128, 0]);
});

test('16-bit P6 is big-endian and scaled', () => {
  const img = decodePnm(cat(enc('P6 1 1 65535\n'), new Uint8Array([0xff, 0xff, 0x80, 0x00, 0x00, 0x00])));
  assert.deepEqual([...img.data], [255, 128, 0]);
});

test('malformed PNM files are refused with a clear error, never a crash', () => {
  const bad: [string, Uint8Array, RegExp][] = [
    ['truncated raster', cat(enc('P5 4 4 255\n'), new Uint8Array(10)), /truncated raster/],
    ['no raster', enc('P5 4 4 255'), /truncated/],
    ['missing height', enc('P5 4'), /truncated/],
    ['zero width', enc('P5 0 4 255\n'), /bad dimensions/],
    ['huge dims', enc(`P5 ${MAX_SIDE + 1} 10 255\n`), /too large/],
    ['huge area', enc('P6 20000 20000 255\n'), /too large/],
    ['absurd number', enc('P5 99999999999 1 255\n'), /too large/],
    ['maxval 0', enc('P5 1 1 0\n\0'), /maxval/],
    ['maxval too big', enc('P5 1 1 65536\n\0\0'), /maxval/],
    ['letters in header', enc('P5 4x4 255\n'), /unexpected byte|expected a number/],
    ['sample above maxval', cat(enc('P5 1 1 15\n'), new Uint8Array([16])), /exceeds maxval/],
    ['short ASCII raster', enc('P2 2 2 255\n1 2 3'), /ASCII raster ends after 3 of 4/],
    ['ASCII sample above maxval', enc('P2 1 1 3\n4\n'), /exceeds maxval/],
  ];
  for (const [what, bytes, re] of bad) {
    assert.throws(
      () => decodePnm(bytes),
      (err: unknown) => err instanceof ImageDecodeError && re.test(err.message),
      what,
    );
  }
});

test('decodeImage routes PGM to our parser and refuses garbage', async () => {
  const img = await decodeImage(cat(enc('P5 1 1 255\n'), new Uint8Array([7])));
  assert.deepEqual([...img.data], [7]);
  await assert.rejects(decodeImage(new Uint8Array(0)), ImageDecodeError);
  await assert.rejects(decodeImage(enc('not an image at all')), ImageDecodeError);
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  await assert.rejects(decodeImage(png.subarray(0, 40)), ImageDecodeError);
});

test('grey PNG stays grey, RGBA drops alpha, EXIF orientation is applied', async () => {
  const grey = await sharp(Buffer.from([0, 64, 128, 255]), { raw: { width: 2, height: 2, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const g = await decodeImage(grey);
  assert.equal(g.channels, 1);
  assert.deepEqual([...g.data], [0, 64, 128, 255]);

  const rgba = await sharp(Buffer.from([255, 0, 0, 10, 0, 255, 0, 200]), { raw: { width: 2, height: 1, channels: 4 } })
    .png()
    .toBuffer();
  const c = await decodeImage(rgba);
  assert.equal(c.channels, 3);
  assert.deepEqual([...c.data], [255, 0, 0, 0, 255, 0]);

  // A 4×2 landscape image tagged "rotate 90° clockwise" must come out 2×4 portrait.
  const px = Buffer.alloc(4 * 2 * 3, 0);
  px.fill(255, 0, 3); // top-left pixel white
  const jpeg = await sharp(px, { raw: { width: 4, height: 2, channels: 3 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const r = await decodeImage(jpeg);
  assert.equal(r.width, 2);
  assert.equal(r.height, 4);
  // After a clockwise turn the old top-left corner is at the top-right.
  assert.ok(r.data[(0 * 2 + 1) * 3]! > r.data[(3 * 2 + 0) * 3]!);
});

test('raw frames are checked against their stated size', () => {
  const f = rawFrame(new Uint8Array(6), 3, 2, 1);
  assert.equal(f.width, 3);
  assert.throws(() => rawFrame(new Uint8Array(5), 3, 2, 1), /needs 6 bytes/);
  assert.throws(() => rawFrame(new Uint8Array(18), 3, 2, 4 as 3), /channels/);
  assert.throws(() => rawFrame(new Uint8Array(0), 0, 0, 1), /bad dimensions/);
  const grey = toGrey(rawFrame(new Uint8Array([255, 255, 255, 0, 0, 0]), 2, 1, 3));
  assert.deepEqual([...grey.data], [255, 0]);
});
