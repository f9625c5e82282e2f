// One interface for every camera backend: the daemon and the CLI only ever call openCamera(spec) and iterate
// frames. See docs/camera.md for the spec syntax and the guarantees (fast open, idempotent close).
import type { RawImage } from '../vision/types.js';

/** Pixel formats we negotiate with a V4L2 device, in V4L2 fourcc spelling. */
export type PixelFormat = 'GREY' | 'YUYV' | 'MJPG';
export const PIXEL_FORMATS: readonly PixelFormat[] = ['GREY', 'YUYV', 'MJPG'];

/**
 * What the frames carry: `auto` keeps the source's nature (GREY devices and grey files give 1 channel, colour
 * gives RGB), `grey` always gives 1 channel (cheapest for YUYV: the Y plane), `rgb` always gives 3 channels.
 */
export type OutputMode = 'auto' | 'grey' | 'rgb';

/** A raw UVC extension-unit control write (what linux-enable-ir-emitter does to light IR emitters). */
export interface UvcXuControl {
  unit: number;
  selector: number;
  /** Bytes written with UVC_SET_CUR; length must equal the control's length (UVC_GET_LEN). */
  data: Uint8Array;
}

export interface OpenOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Device pixel formats in order of preference; default GREY (IR), YUYV, MJPG. */
  pixelFormats?: readonly PixelFormat[];
  output?: OutputMode;
  /** Replay: start again at the first file after the last one (default true). */
  loop?: boolean;
  /** V4L2: how long one frame may take before frames() fails (default 2000 ms). */
  frameTimeoutMs?: number;
  /** V4L2: manual exposure in the driver's unit (usually 100 µs); disables auto exposure. */
  exposure?: number;
  /** V4L2: UVC XU writes sent after the format is set, before streaming (IR emitter). */
  uvcXu?: readonly UvcXuControl[];
  /** Non-fatal problems (an undecodable replay file, a control the device refuses). Default: ignored. */
  onWarning?: (message: string) => void;
}

export interface CameraInfo {
  spec: string;
  backend: 'v4l2' | 'replay';
  /** Device path or replay directory. */
  source: string;
  /** Negotiated device format, or 'file' for replay. */
  pixelFormat: PixelFormat | 'file';
  /** Nominal frame size; replay files may differ from frame to frame (each Frame carries its own size). */
  width: number;
  height: number;
  /** Nominal rate; 0 means as fast as the consumer pulls (replay with fps=0). */
  fps: number;
  /** V4L2 driver, card and bus_info from VIDIOC_QUERYCAP, and the USB serial where sysfs has one (src/camera/identity.ts). */
  driver?: string;
  card?: string;
  busInfo?: string;
  serial?: string;
}

export interface Frame {
  image: RawImage;
  /** Capture time in the performance.now() time base (CLOCK_MONOTONIC), in milliseconds. */
  timestampMs: number;
  /**
   * 0 for the first frame of the session. Replay: +1 per frame. V4L2: the driver's frame counter relative to the
   * first frame, so a gap means frames were skipped (the consumer was slower than the camera: the newest frame is
   * always delivered, older queued ones are dropped).
   */
  sequence: number;
}

export interface Camera {
  readonly info: CameraInfo;
  /**
   * Frames until close(). Only one iteration at a time; breaking out of a for-await loop leaves the camera open
   * so a later frames() continues. Ends (without error) once close() is called.
   */
  frames(): AsyncIterable<Frame>;
  /** Stops streaming and releases the device. Idempotent; resolves once the device is released. */
  close(): Promise<void>;
}

export type CameraErrorCode =
  | 'BAD_SPEC'
  | 'NOT_FOUND'
  | 'ACCESS'
  | 'BUSY'
  | 'NOT_CAPTURE'
  | 'NO_STREAMING'
  | 'NO_FORMAT'
  | 'NO_IMAGES'
  | 'TIMEOUT'
  | 'NATIVE_MISSING'
  | 'IO';

/** Every failure of this module is a CameraError, so callers can answer `unavailable` with a reason. */
export class CameraError extends Error {
  constructor(
    readonly code: CameraErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CameraError';
  }
}

export type CameraSpec = { backend: 'v4l2'; device: string; options: OpenOptions } | { backend: 'replay'; dir: string; options: OpenOptions };

const SPEC_HELP = 'expected v4l2:/dev/videoN, /dev/videoN or replay:DIR (options as ?key=value&...)';

function parseIntParam(key: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new CameraError('BAD_SPEC', `camera spec: ${key}=${value} is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new CameraError('BAD_SPEC', `camera spec: ${key}=${value} is outside ${min}..${max}`);
  return n;
}

function parseBoolParam(key: string, value: string): boolean {
  if (value === '1' || value === 'true' || value === 'yes') return true;
  if (value === '0' || value === 'false' || value === 'no') return false;
  throw new CameraError('BAD_SPEC', `camera spec: ${key}=${value} is not a boolean (1/0, true/false)`);
}

export function parsePixelFormats(value: string): PixelFormat[] {
  const out: PixelFormat[] = [];
  for (const raw of value.split(',')) {
    const f = raw.trim().toUpperCase();
    const canonical = f === 'MJPEG' ? 'MJPG' : f === 'GRAY' ? 'GREY' : f;
    if (!(PIXEL_FORMATS as readonly string[]).includes(canonical)) {
      throw new CameraError('BAD_SPEC', `camera spec: unknown pixel format "${raw}" (known: ${PIXEL_FORMATS.join(', ')})`);
    }
    if (!out.includes(canonical as PixelFormat)) out.push(canonical as PixelFormat);
  }
  return out;
}

/** `UNIT:SELECTOR:HEX`, e.g. `14:6:010303000000000000` (what linux-enable-ir-emitter reports for a camera). */
export function parseXu(value: string): UvcXuControl {
  const m = /^(\d{1,3}):(\d{1,3}):((?:[0-9a-fA-F]{2}){1,64})$/.exec(value);
  if (!m) throw new CameraError('BAD_SPEC', `camera spec: xu=${value} must be UNIT:SELECTOR:HEXBYTES (e.g. 14:6:0103030000000000)`);
  const unit = Number(m[1]);
  const selector = Number(m[2]);
  if (unit < 1 || unit > 255 || selector < 1 || selector > 255) {
    throw new CameraError('BAD_SPEC', `camera spec: xu=${value}: unit and selector must be 1..255`);
  }
  return { unit, selector, data: Uint8Array.from(Buffer.from(m[3]!, 'hex')) };
}

function parseQuery(backend: 'v4l2' | 'replay', query: string): OpenOptions {
  const opts: OpenOptions = {};
  if (query === '') return opts;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    switch (key) {
      case 'fps':
        opts.fps = parseIntParam(key, value, 0, 1000);
        break;
      case 'width':
        opts.width = parseIntParam(key, value, 1, 16384);
        break;
      case 'height':
        opts.height = parseIntParam(key, value, 1, 16384);
        break;
      case 'output':
        if (value !== 'auto' && value !== 'grey' && value !== 'rgb') {
          throw new CameraError('BAD_SPEC', `camera spec: output=${value} must be auto, grey or rgb`);
        }
        opts.output = value;
        break;
      case 'loop':
        if (backend !== 'replay') throw new CameraError('BAD_SPEC', `camera spec: loop is a replay option`);
        opts.loop = parseBoolParam(key, value);
        break;
      case 'format':
        if (backend !== 'v4l2') throw new CameraError('BAD_SPEC', `camera spec: format is a v4l2 option`);
        opts.pixelFormats = parsePixelFormats(value);
        break;
      case 'exposure':
        if (backend !== 'v4l2') throw new CameraError('BAD_SPEC', `camera spec: exposure is a v4l2 option`);
        opts.exposure = parseIntParam(key, value, 1, 1_000_000);
        break;
      case 'xu': {
        if (backend !== 'v4l2') throw new CameraError('BAD_SPEC', `camera spec: xu is a v4l2 option`);
        opts.uvcXu = [...(opts.uvcXu ?? []), parseXu(value)];
        break;
      }
      case 'timeout':
        opts.frameTimeoutMs = parseIntParam(key, value, 1, 600_000);
        break;
      default:
        throw new CameraError('BAD_SPEC', `camera spec: unknown option "${key}" for ${backend}`);
    }
  }
  return opts;
}

/** Parses a camera spec string; throws CameraError('BAD_SPEC') naming what is wrong. */
export function parseCameraSpec(spec: string): CameraSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw new CameraError('BAD_SPEC', `camera spec is empty: ${SPEC_HELP}`);
  if (spec.includes('\0')) throw new CameraError('BAD_SPEC', 'camera spec contains a NUL byte');
  let backend: 'v4l2' | 'replay';
  let rest: string;
  if (spec.startsWith('v4l2:')) {
    backend = 'v4l2';
    rest = spec.slice(5);
  } else if (spec.startsWith('replay:')) {
    backend = 'replay';
    rest = spec.slice(7);
  } else if (spec.startsWith('/dev/')) {
    backend = 'v4l2';
    rest = spec;
  } else {
    throw new CameraError('BAD_SPEC', `camera spec "${spec}" not understood: ${SPEC_HELP}`);
  }
  // Options follow the last '?', so a directory may itself contain '?' only if options are given explicitly.
  const q = rest.lastIndexOf('?');
  const target = q < 0 ? rest : rest.slice(0, q);
  const options = parseQuery(backend, q < 0 ? '' : rest.slice(q + 1));
  if (target === '') throw new CameraError('BAD_SPEC', `camera spec "${spec}" names no ${backend === 'v4l2' ? 'device' : 'directory'}`);
  if (backend === 'v4l2') {
    if (!target.startsWith('/')) throw new CameraError('BAD_SPEC', `camera spec "${spec}": the device must be an absolute path like /dev/video0`);
    return { backend, device: target, options };
  }
  return { backend, dir: target, options };
}

/**
 * Opens a camera. `opts` gives defaults; options written in the spec (what the user typed) take precedence.
 * Throws CameraError with a code and a message naming the device and the cause.
 */
export async function openCamera(spec: string, opts: OpenOptions = {}): Promise<Camera> {
  const parsed = parseCameraSpec(spec);
  const merged: OpenOptions = { ...opts, ...parsed.options };
  // XU writes add up: code (config) first, then those written in the spec.
  if (opts.uvcXu && parsed.options.uvcXu) merged.uvcXu = [...opts.uvcXu, ...parsed.options.uvcXu];
  if (parsed.backend === 'replay') {
    const { openReplay } = await import('./replay.js');
    return openReplay(spec, parsed.dir, merged);
  }
  const { openV4l2 } = await import('./v4l2.js');
  return openV4l2(spec, parsed.device, merged);
}

/**
 * Mean grey level of an image, sampling every `step`-th pixel of every `step`-th row (default 4: 1/16 of the
 * pixels, well under a millisecond at 640x480). For RGB the green channel stands in for luma. Dark-frame
 * skipping (IR emitters that light every other frame) needs only a rough level.
 */
export function meanBrightness(image: RawImage, step = 4): number {
  const { width, height, channels, data } = image;
  if (width <= 0 || height <= 0) return 0;
  const s = Math.max(1, Math.floor(step));
  const offset = channels === 3 ? 1 : 0;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height; y += s) {
    let i = y * width * channels + offset;
    const rowEnd = (y + 1) * width * channels;
    for (; i < rowEnd; i += s * channels) {
      sum += data[i]!;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}
