// What cameras this machine has, for `facegate doctor` and set-up: which /dev/videoN can stream, in which formats
// and sizes, and which look like IR cameras (they offer GREY, or say IR in their name). Opens each device only
// for a few ioctls; never streams.
import fs from 'node:fs';
import path from 'node:path';
import { CameraError } from './camera.js';
import { loadV4l2Addon, V4L2_CAP_STREAMING, V4L2_CAP_VIDEO_CAPTURE } from './v4l2-native.js';

export interface CameraProbe {
  device: string;
  /** Stable alias under /dev/v4l/by-id, when udev made one; better in the config than /dev/videoN. */
  byId?: string;
  driver: string;
  card: string;
  busInfo: string;
  /** Can be used by facegate: a capture device with streaming I/O. */
  usable: boolean;
  formats: Array<{ fourcc: string; sizes: string[] }>;
  likelyIr: boolean;
}

export interface ProbeFailure {
  device: string;
  error: string;
  code?: string;
}

function byIdAliases(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = '/dev/v4l/by-id';
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    try {
      const target = fs.realpathSync(path.join(dir, n));
      if (!out.has(target)) out.set(target, path.join(dir, n));
    } catch {
      // dangling link: the camera went away while we looked
    }
  }
  return out;
}

/** /dev/videoN nodes in numeric order. */
export function videoDevices(devDir = '/dev'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(devDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^video\d+$/.test(n))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((n) => path.join(devDir, n));
}

/** Queries one device. Throws CameraError when it cannot be opened or queried. */
export function probeCamera(device: string): CameraProbe {
  const addon = loadV4l2Addon();
  let h;
  try {
    h = addon.open(device);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CameraError(code === 'ENOENT' ? 'NOT_FOUND' : code === 'EACCES' || code === 'EPERM' ? 'ACCESS' : 'IO', `${device}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const cap = addon.querycap(h);
    const usable = (cap.deviceCaps & V4L2_CAP_VIDEO_CAPTURE) !== 0 && (cap.deviceCaps & V4L2_CAP_STREAMING) !== 0;
    const formats: CameraProbe['formats'] = [];
    if (cap.deviceCaps & V4L2_CAP_VIDEO_CAPTURE) {
      for (const f of addon.enumFormats(h)) {
        const s = addon.enumFrameSizes(h, f.fourcc);
        const sizes = s.discrete.map((d) => `${d.width}x${d.height}`);
        if (s.stepwise) sizes.push(`${s.stepwise.minWidth}x${s.stepwise.minHeight}-${s.stepwise.maxWidth}x${s.stepwise.maxHeight}`);
        formats.push({ fourcc: f.fourcc, sizes });
      }
    }
    const likelyIr = usable && (formats.some((f) => f.fourcc === 'GREY') || /\bIR\b|infrared/i.test(cap.card));
    const probe: CameraProbe = { device, driver: cap.driver, card: cap.card, busInfo: cap.busInfo, usable, formats, likelyIr };
    const alias = byIdAliases().get(fs.existsSync(device) ? fs.realpathSync(device) : device);
    if (alias) probe.byId = alias;
    return probe;
  } catch (err) {
    throw new CameraError('IO', `${device}: ${(err as Error).message}`, { cause: err });
  } finally {
    addon.close(h);
  }
}

/** Probes every /dev/videoN (or the given devices); failures are listed, not thrown. */
export function listCameras(devices: string[] = videoDevices()): { cameras: CameraProbe[]; failures: ProbeFailure[] } {
  const cameras: CameraProbe[] = [];
  const failures: ProbeFailure[] = [];
  for (const d of devices) {
    try {
      cameras.push(probeCamera(d));
    } catch (err) {
      failures.push({ device: d, error: (err as Error).message, code: (err as { code?: string }).code });
    }
  }
  return { cameras, failures };
}
