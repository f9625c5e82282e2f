// v4l2:/dev/videoN — negotiation, controls and frame conversion over our addon (native/v4l2). The addon does the
// ioctls and waits for frames off the event loop; this module decides what to ask for and turns bytes into images.
import { usbSerialOf } from './identity.js';
import { performance } from 'node:perf_hooks';
import {
  CameraError,
  PIXEL_FORMATS,
  type Camera,
  type CameraErrorCode,
  type CameraInfo,
  type Frame,
  type OpenOptions,
  type OutputMode,
  type PixelFormat,
} from './camera.js';
import { decodeMjpeg, preloadMjpegDecoder } from './mjpeg.js';
import { greyFromGrey, greyFromYuyv, rgbFromYuyv } from './pixels.js';
import {
  loadV4l2Addon,
  UVC_GET_LEN,
  UVC_SET_CUR,
  V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC,
  V4L2_CAP_STREAMING,
  V4L2_CAP_VIDEO_CAPTURE,
  V4L2_CID_EXPOSURE_ABSOLUTE,
  V4L2_CID_EXPOSURE_AUTO,
  V4L2_EXPOSURE_MANUAL,
  type NativeFormat,
  type NativeFrameSizes,
  type NativeHandle,
  type NativeV4l2,
} from './v4l2-native.js';

const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 480;
const DEFAULT_FPS = 30;
const DEFAULT_FRAME_TIMEOUT_MS = 2000;
const BUFFERS = 4;
/** Consecutive undecodable MJPEG frames before frames() gives up. */
const MAX_BAD_FRAMES = 10;

/** First format of the preference list that the device offers, or null. */
export function chooseFormat(offered: readonly string[], preference: readonly PixelFormat[]): PixelFormat | null {
  for (const f of preference) if (offered.includes(f)) return f;
  return null;
}

/** The listed size nearest to the wanted one (stepwise ranges: clamped and snapped to the step). */
export function chooseSize(sizes: NativeFrameSizes, width: number, height: number): { width: number; height: number } {
  if (sizes.stepwise) {
    const s = sizes.stepwise;
    const snap = (v: number, min: number, max: number, step: number) => {
      const c = Math.min(max, Math.max(min, v));
      return step > 1 ? Math.min(max, min + Math.round((c - min) / step) * step) : c;
    };
    return { width: snap(width, s.minWidth, s.maxWidth, s.stepWidth), height: snap(height, s.minHeight, s.maxHeight, s.stepHeight) };
  }
  let best = { width, height };
  let bestCost = Infinity;
  for (const s of sizes.discrete) {
    // Prefer the closest size; on a tie the larger one (downscaling loses less than upscaling).
    const cost = Math.abs(s.width - width) + Math.abs(s.height - height) - (s.width * s.height) / 1e9;
    if (cost < bestCost) {
      bestCost = cost;
      best = { width: s.width, height: s.height };
    }
  }
  return best;
}

function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

function openError(device: string, err: unknown): CameraError {
  const code = errnoCode(err);
  const map: Record<string, [CameraErrorCode, string]> = {
    ENOENT: ['NOT_FOUND', `v4l2: ${device} does not exist (is the camera connected? see \`ls /dev/video*\`)`],
    ENODEV: ['NOT_FOUND', `v4l2: ${device} is not a video device or was disconnected`],
    ENXIO: ['NOT_FOUND', `v4l2: ${device} has no device behind it`],
    EACCES: ['ACCESS', `v4l2: no permission to open ${device} (needs the video group or the facegate udev rule)`],
    EPERM: ['ACCESS', `v4l2: no permission to open ${device} (needs the video group or the facegate udev rule)`],
    EBUSY: ['BUSY', `v4l2: ${device} is in use by another program`],
  };
  const hit = map[code];
  if (hit) return new CameraError(hit[0], hit[1], { cause: err });
  return new CameraError('IO', `v4l2: cannot open ${device}: ${(err as Error).message}`, { cause: err });
}

function ioError(device: string, what: string, err: unknown): CameraError {
  const code = errnoCode(err);
  if (code === 'ENODEV') return new CameraError('NOT_FOUND', `v4l2: ${device} was disconnected (${what})`, { cause: err });
  if (code === 'EBUSY') return new CameraError('BUSY', `v4l2: ${device} is busy (${what}): another program is streaming from it`, { cause: err });
  return new CameraError('IO', `v4l2: ${device}: ${what} failed: ${(err as Error).message}`, { cause: err });
}

/** Offset from CLOCK_MONOTONIC milliseconds (driver timestamps, process.hrtime) to performance.now(). */
const monotonicToPerf = Number(process.hrtime.bigint()) / 1e6 - performance.now();

class V4l2Camera implements Camera {
  private closed = false;
  private closing: Promise<void> | null = null;
  private iterating = false;
  private inflight: Promise<unknown> | null = null;
  private firstSequence = -1;
  private readonly raw: Buffer;

  constructor(
    private readonly addon: NativeV4l2,
    private readonly handle: NativeHandle,
    readonly info: CameraInfo,
    private readonly format: NativeFormat,
    private readonly channels: 1 | 3,
    private readonly frameTimeoutMs: number,
    private readonly onWarning: (m: string) => void,
  ) {
    this.raw = Buffer.allocUnsafe(Math.max(1, format.sizeImage));
  }

  frames(): AsyncIterable<Frame> {
    return { [Symbol.asyncIterator]: () => this.iterate() };
  }

  private convert(bytes: number): Promise<Frame['image']> | Frame['image'] {
    const { width, height, bytesPerLine } = this.format;
    const src = this.raw.subarray(0, bytes);
    switch (this.info.pixelFormat) {
      case 'GREY':
        if (bytes < (bytesPerLine || width) * (height - 1) + width) throw new Error(`short GREY frame (${bytes} bytes)`);
        return greyFromGrey(src, width, height, bytesPerLine);
      case 'YUYV':
        if (bytes < (bytesPerLine || width * 2) * (height - 1) + width * 2) throw new Error(`short YUYV frame (${bytes} bytes)`);
        return this.channels === 1 ? greyFromYuyv(src, width, height, bytesPerLine) : rgbFromYuyv(src, width, height, bytesPerLine);
      default:
        // sharp works asynchronously on its own threads; copy because the capture buffer is reused.
        return decodeMjpeg(Uint8Array.prototype.slice.call(src), this.channels);
    }
  }

  private async *iterate(): AsyncGenerator<Frame> {
    if (this.iterating) throw new CameraError('BUSY', `v4l2: ${this.info.source} is already being read by another frames() loop`);
    this.iterating = true;
    let bad = 0;
    try {
      while (!this.closed) {
        const pending = this.addon.read(this.handle, this.frameTimeoutMs, this.raw);
        this.inflight = pending;
        let r: Awaited<typeof pending>;
        try {
          r = await pending;
        } catch (err) {
          if (this.closed) return;
          throw ioError(this.info.source, 'waiting for a frame', err);
        } finally {
          this.inflight = null;
        }
        if (r.status === 'woken' || this.closed) return;
        if (r.status === 'timeout') {
          throw new CameraError('TIMEOUT', `v4l2: ${this.info.source} gave no frame within ${this.frameTimeoutMs} ms`);
        }
        const timestampMs = r.flags & V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ? r.timestampUs / 1000 - monotonicToPerf : performance.now();
        if (this.firstSequence < 0) this.firstSequence = r.sequence;
        let image: Frame['image'];
        try {
          image = await this.convert(r.bytesUsed);
        } catch (err) {
          if (++bad >= MAX_BAD_FRAMES) {
            throw new CameraError('IO', `v4l2: ${this.info.source}: ${bad} frames in a row could not be decoded: ${(err as Error).message}`, { cause: err });
          }
          this.onWarning(`v4l2: ${this.info.source}: dropping an undecodable ${this.info.pixelFormat} frame: ${(err as Error).message}`);
          continue;
        }
        bad = 0;
        if (this.closed) return;
        yield { image, timestampMs, sequence: (r.sequence - this.firstSequence) >>> 0 };
      }
    } finally {
      this.iterating = false;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.inflight) {
        // The frame wait runs on the libuv pool; wake it through its eventfd and let it finish before teardown.
        this.addon.wake(this.handle);
        await this.inflight.catch(() => undefined);
      }
      this.addon.close(this.handle);
    })();
    return this.closing;
  }
}

function applyControls(addon: NativeV4l2, h: NativeHandle, device: string, opts: OpenOptions, warn: (m: string) => void): void {
  if (opts.exposure === undefined) return;
  try {
    const auto = addon.queryControl(h, V4L2_CID_EXPOSURE_AUTO);
    if (auto) addon.setControl(h, V4L2_CID_EXPOSURE_AUTO, V4L2_EXPOSURE_MANUAL);
    const abs = addon.queryControl(h, V4L2_CID_EXPOSURE_ABSOLUTE);
    if (!abs) {
      warn(`v4l2: ${device} has no exposure control; exposure=${opts.exposure} ignored`);
      return;
    }
    const value = Math.min(abs.maximum, Math.max(abs.minimum, Math.round(opts.exposure)));
    if (value !== opts.exposure) warn(`v4l2: ${device}: exposure ${opts.exposure} clamped to ${value} (${abs.minimum}..${abs.maximum})`);
    addon.setControl(h, V4L2_CID_EXPOSURE_ABSOLUTE, value);
    // Drivers round to their own steps; say so when the camera did not take the value as given.
    const actual = addon.getControl(h, V4L2_CID_EXPOSURE_ABSOLUTE);
    if (actual !== value) warn(`v4l2: ${device}: exposure ${value} was set as ${actual}`);
  } catch (err) {
    warn(`v4l2: ${device}: cannot set exposure: ${(err as Error).message}`);
  }
}

function applyUvcXu(addon: NativeV4l2, h: NativeHandle, device: string, opts: OpenOptions, warn: (m: string) => void): void {
  for (const xu of opts.uvcXu ?? []) {
    const where = `UVC XU unit ${xu.unit} selector ${xu.selector}`;
    try {
      const len = Buffer.alloc(2);
      addon.uvcXuQuery(h, xu.unit, xu.selector, UVC_GET_LEN, len);
      const want = len.readUInt16LE(0);
      if (want !== xu.data.length) {
        warn(`v4l2: ${device}: ${where} takes ${want} bytes, config gives ${xu.data.length}; not sent`);
        continue;
      }
      addon.uvcXuQuery(h, xu.unit, xu.selector, UVC_SET_CUR, Buffer.from(xu.data));
    } catch (err) {
      warn(`v4l2: ${device}: ${where} failed: ${(err as Error).message}`);
    }
  }
}

function outputChannels(format: PixelFormat, output: OutputMode): 1 | 3 {
  if (output === 'grey') return 1;
  if (output === 'rgb') {
    if (format === 'GREY') return 1; // an IR sensor has no colour to give; say so rather than fake it
    return 3;
  }
  return format === 'GREY' ? 1 : 3;
}

export async function openV4l2(spec: string, device: string, opts: OpenOptions): Promise<Camera> {
  const addon = loadV4l2Addon();
  const warn = opts.onWarning ?? (() => {});
  let h: NativeHandle;
  try {
    h = addon.open(device);
  } catch (err) {
    throw openError(device, err);
  }
  try {
    const cap = addon.querycap(h);
    if (!(cap.deviceCaps & V4L2_CAP_VIDEO_CAPTURE)) {
      throw new CameraError(
        'NOT_CAPTURE',
        `v4l2: ${device} (${cap.card}) is not a video capture device; cameras often expose a metadata node too, try another /dev/videoN`,
      );
    }
    if (!(cap.deviceCaps & V4L2_CAP_STREAMING)) {
      throw new CameraError('NO_STREAMING', `v4l2: ${device} (${cap.card}, driver ${cap.driver}) does not support streaming I/O, which facegate needs`);
    }
    const offered = addon.enumFormats(h).map((f) => f.fourcc);
    const preference = opts.pixelFormats && opts.pixelFormats.length > 0 ? opts.pixelFormats : PIXEL_FORMATS;
    const fourcc = chooseFormat(offered, preference);
    if (!fourcc) {
      throw new CameraError('NO_FORMAT', `v4l2: ${device} offers ${offered.join(', ') || 'no formats'}, none of ${preference.join(', ')}`);
    }
    if (fourcc === 'MJPG') void preloadMjpegDecoder().catch(() => undefined); // errors surface at decode
    const size = chooseSize(addon.enumFrameSizes(h, fourcc), opts.width ?? DEFAULT_WIDTH, opts.height ?? DEFAULT_HEIGHT);
    const format = addon.setFormat(h, fourcc, size.width, size.height);
    if (format.fourcc !== fourcc) {
      throw new CameraError('NO_FORMAT', `v4l2: ${device} listed ${fourcc} but set ${format.fourcc} instead`);
    }
    if (format.width < 2 || format.height < 2 || format.sizeImage < 1 || format.sizeImage > 64 * 1024 * 1024) {
      throw new CameraError('NO_FORMAT', `v4l2: ${device} reports an implausible format ${format.width}x${format.height}, ${format.sizeImage} bytes`);
    }
    const wantFps = opts.fps && opts.fps > 0 ? opts.fps : DEFAULT_FPS;
    let fps = 0;
    try {
      fps = addon.setFps(h, wantFps);
    } catch (err) {
      // Some drivers reject VIDIOC_S_PARM; the camera still works at its own rate.
      warn(`v4l2: ${device}: cannot set ${wantFps} fps: ${(err as Error).message}`);
    }
    applyControls(addon, h, device, opts, warn);
    applyUvcXu(addon, h, device, opts, warn);
    addon.start(h, BUFFERS);
    const info: CameraInfo = {
      spec,
      backend: 'v4l2',
      source: device,
      pixelFormat: fourcc,
      width: format.width,
      height: format.height,
      fps: fps > 0 ? fps : wantFps,
      driver: cap.driver,
      card: cap.card,
      busInfo: cap.busInfo,
    };
    const serial = usbSerialOf(device);
    if (serial) info.serial = serial;
    return new V4l2Camera(addon, h, info, format, outputChannels(fourcc, opts.output ?? 'auto'), opts.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS, warn);
  } catch (err) {
    try {
      addon.close(h);
    } catch {
      // already failing; the original error is the one to report
    }
    if (err instanceof CameraError) throw err;
    throw ioError(device, 'setting up capture', err);
  }
}
