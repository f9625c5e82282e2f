// replay:DIR — plays the images of a directory as if a camera saw them: name order, a set rate, looping.
// For tests, demos and bug reports; frames decode lazily with a prefetch of the next one and a bounded cache.
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CameraError, type Camera, type CameraInfo, type Frame, type OpenOptions, type OutputMode } from './camera.js';
import { decodeImage, toGrey } from '../vision/decode.js';
import type { RawImage } from '../vision/types.js';

const IMAGE_FILE = /\.(jpe?g|png|pgm|ppm|pnm|webp)$/i;
const DEFAULT_FPS = 30;
/** Decoded frames kept for looping; a directory under this size is decoded once. */
const CACHE_BYTES = 64 * 1024 * 1024;

/** Name order with numbers compared by value (2.pgm before 10.pgm), the same on every machine. */
const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

export async function listReplayFiles(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CameraError('NOT_FOUND', `replay: directory ${dir} does not exist`, { cause: err });
    if (code === 'ENOTDIR') throw new CameraError('BAD_SPEC', `replay: ${dir} is not a directory`, { cause: err });
    if (code === 'EACCES' || code === 'EPERM') throw new CameraError('ACCESS', `replay: no permission to read ${dir}`, { cause: err });
    throw new CameraError('IO', `replay: cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_FILE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byName);
  if (names.length === 0) {
    throw new CameraError('NO_IMAGES', `replay: ${dir} has no image files (.jpg, .png, .pgm)`);
  }
  return names.map((n) => path.join(dir, n));
}

export function toOutput(image: RawImage, mode: OutputMode): RawImage {
  if (mode === 'auto' || (mode === 'grey' && image.channels === 1) || (mode === 'rgb' && image.channels === 3)) return image;
  if (mode === 'grey') return toGrey(image);
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const v = src[i]!;
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
  }
  return { width: image.width, height: image.height, channels: 3, data: out };
}

class ReplayCamera implements Camera {
  readonly info: CameraInfo & { width: number; height: number };
  private closed = false;
  private iterating = false;
  private readonly bad = new Set<number>();
  private readonly cache = new Map<number, RawImage>();
  private cacheBytes = 0;
  private readonly pending = new Map<number, Promise<RawImage | null>>();
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private position = 0;

  constructor(
    spec: string,
    private readonly dir: string,
    private readonly files: string[],
    private readonly opts: { fps: number; loop: boolean; output: OutputMode; onWarning: (m: string) => void },
  ) {
    this.info = {
      spec,
      backend: 'replay',
      source: dir,
      pixelFormat: 'file',
      width: 0,
      height: 0,
      fps: opts.fps,
    };
  }

  /** Decodes the first decodable file so info has a size and the first frame is ready; fails when none is. */
  async prime(): Promise<void> {
    for (let i = 0; i < this.files.length; i++) {
      const image = await this.load(i);
      if (image) {
        this.info.width = image.width;
        this.info.height = image.height;
        return;
      }
    }
    throw new CameraError('NO_IMAGES', `replay: none of the ${this.files.length} files in ${this.dir} could be decoded`);
  }

  private remember(index: number, image: RawImage): void {
    if (this.cache.has(index)) return;
    const bytes = image.data.byteLength;
    // Evict oldest entries (Map keeps insertion order) until the new frame fits.
    for (const [k, v] of this.cache) {
      if (this.cacheBytes + bytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cacheBytes -= v.data.byteLength;
    }
    if (bytes <= CACHE_BYTES) {
      this.cache.set(index, image);
      this.cacheBytes += bytes;
    }
  }

  /** Decoded (and output-converted) image for a file index, or null when the file cannot be decoded. */
  private load(index: number): Promise<RawImage | null> {
    const hit = this.cache.get(index);
    if (hit) return Promise.resolve(hit);
    const inFlight = this.pending.get(index);
    if (inFlight) return inFlight;
    const file = this.files[index]!;
    const p = fs
      .readFile(file)
      .then(decodeImage)
      .then(
        (img) => {
          const out = toOutput(img, this.opts.output);
          if (!this.closed) this.remember(index, out);
          return out;
        },
        (err: unknown) => {
          if (this.closed) return null; // a prefetch that outlived close(): nobody wants to hear about it
          this.bad.add(index);
          this.opts.onWarning(`replay: skipping ${path.basename(file)}: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        },
      );
    this.pending.set(index, p);
    void p.finally(() => this.pending.delete(index));
    return p;
  }

  /** Next decodable image in play order, or null at the end (no loop) or when closed. */
  private async next(): Promise<RawImage | null> {
    let misses = 0;
    while (!this.closed) {
      if (this.position >= this.files.length) {
        if (!this.opts.loop) return null;
        this.position = 0;
      }
      if (misses >= this.files.length) {
        throw new CameraError('NO_IMAGES', `replay: none of the ${this.files.length} files in ${this.dir} could be decoded`);
      }
      const index = this.position++;
      if (this.bad.has(index)) {
        misses++;
        continue;
      }
      const image = await this.load(index);
      if (image) {
        // Decode the following frame while the consumer works on this one.
        const following = this.position >= this.files.length ? (this.opts.loop ? 0 : -1) : this.position;
        if (following >= 0 && !this.bad.has(following)) void this.load(following);
        return image;
      }
      misses++;
    }
    return null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  frames(): AsyncIterable<Frame> {
    return { [Symbol.asyncIterator]: () => this.iterate() };
  }

  private async *iterate(): AsyncGenerator<Frame> {
    if (this.iterating) throw new CameraError('BUSY', `replay: ${this.dir} is already being read by another frames() loop`);
    this.iterating = true;
    try {
      const period = this.opts.fps > 0 ? 1000 / this.opts.fps : 0;
      let anchor = performance.now();
      let count = 0;
      while (!this.closed) {
        const image = await this.next();
        if (!image || this.closed) return;
        if (period > 0) {
          const due = anchor + count * period;
          const now = performance.now();
          if (due > now) await this.sleep(due - now);
          else if (now - due > period) {
            // The consumer fell behind: deliver now and pace from here, instead of bursting to catch up.
            anchor = now;
            count = 0;
          }
          if (this.closed) return;
        }
        count++;
        yield { image, timestampMs: performance.now(), sequence: this.sequence++ };
      }
    } finally {
      this.iterating = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
    // A prefetch still decoding finishes on its own and is dropped; close() does not wait for it.
    this.cache.clear();
    this.cacheBytes = 0;
  }
}

export async function openReplay(spec: string, dir: string, opts: OpenOptions): Promise<Camera> {
  const files = await listReplayFiles(dir);
  const fps = opts.fps ?? DEFAULT_FPS;
  if (!Number.isFinite(fps) || fps < 0) throw new CameraError('BAD_SPEC', `replay: fps must be >= 0, got ${fps}`);
  const cam = new ReplayCamera(spec, dir, files, { fps, loop: opts.loop ?? true, output: opts.output ?? 'auto', onWarning: opts.onWarning ?? (() => {}) });
  await cam.prime();
  return cam;
}
