// Typed access to our V4L2 addon (native/v4l2/v4l2.c). Loaded on first use so that machines without it can still
// use replay cameras; a missing addon is a CameraError that says how to build it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { CameraError } from './camera.js';

/** Opaque handle owned by the addon. */
export type NativeHandle = { readonly __v4l2: unique symbol };

interface NativeCapability {
  driver: string;
  card: string;
  busInfo: string;
  version: number;
  capabilities: number;
  deviceCaps: number;
}

export interface NativeFormat {
  fourcc: string;
  width: number;
  height: number;
  bytesPerLine: number;
  sizeImage: number;
}

export interface NativeFrameSizes {
  discrete: Array<{ width: number; height: number }>;
  stepwise?: { minWidth: number; maxWidth: number; stepWidth: number; minHeight: number; maxHeight: number; stepHeight: number };
}

interface NativeControl {
  id: number;
  type: number;
  name: string;
  minimum: number;
  maximum: number;
  step: number;
  defaultValue: number;
  flags: number;
}

type NativeRead =
  | { status: 'frame'; bytesUsed: number; sequence: number; flags: number; dropped: number; timestampUs: number }
  | { status: 'timeout' }
  | { status: 'woken' };

export interface NativeV4l2 {
  open(path: string): NativeHandle;
  querycap(h: NativeHandle): NativeCapability;
  enumFormats(h: NativeHandle): Array<{ fourcc: string; description: string; flags: number }>;
  enumFrameSizes(h: NativeHandle, fourcc: string): NativeFrameSizes;
  setFormat(h: NativeHandle, fourcc: string, width: number, height: number): NativeFormat;
  setFps(h: NativeHandle, fps: number): number;
  queryControl(h: NativeHandle, id: number): NativeControl | null;
  getControl(h: NativeHandle, id: number): number;
  setControl(h: NativeHandle, id: number, value: number): number;
  uvcXuQuery(h: NativeHandle, unit: number, selector: number, query: number, data: Buffer): void;
  start(h: NativeHandle, buffers: number): number;
  read(h: NativeHandle, timeoutMs: number, dest: Buffer): Promise<NativeRead>;
  wake(h: NativeHandle): void;
  close(h: NativeHandle): void;
}

// Constants from <linux/videodev2.h> and <linux/usb/video.h>.
export const V4L2_CAP_VIDEO_CAPTURE = 0x00000001;
export const V4L2_CAP_STREAMING = 0x04000000;
export const V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC = 0x00002000;
export const V4L2_CID_EXPOSURE_AUTO = 0x009a0901;
export const V4L2_CID_EXPOSURE_ABSOLUTE = 0x009a0902;
export const V4L2_EXPOSURE_MANUAL = 1;
export const UVC_SET_CUR = 0x01;
export const UVC_GET_LEN = 0x85;

const METHODS = [
  'open',
  'querycap',
  'enumFormats',
  'enumFrameSizes',
  'setFormat',
  'setFps',
  'queryControl',
  'getControl',
  'setControl',
  'uvcXuQuery',
  'start',
  'read',
  'wake',
  'close',
] as const;

export function addonPath(): string {
  // Deliberately no environment override: the daemon runs as root and must only load the addon it was built with.
  return path.join(PACKAGE_ROOT, 'native', 'v4l2', 'build', 'Release', 'v4l2.node');
}

let cached: NativeV4l2 | null = null;

export function loadV4l2Addon(): NativeV4l2 {
  if (cached) return cached;
  const file = addonPath();
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(file);
  } catch (err) {
    throw new CameraError('NATIVE_MISSING', `v4l2: cannot load the addon ${file} (run \`npm run build:native\`): ${(err as Error).message}`, { cause: err });
  }
  for (const m of METHODS) {
    if (typeof (mod as Record<string, unknown>)[m] !== 'function') {
      throw new CameraError('NATIVE_MISSING', `v4l2: addon ${file} lacks ${m}(); rebuild it with \`npm run build:native\``);
    }
  }
  cached = mod as NativeV4l2;
  return cached;
}
