// Which physical camera a face was enrolled with, and whether the one in use now is trusted (issue 7, docs/camera.md
// "Camera trust"). A face enrolled on the laptop's IR camera must not be checked against whatever device later takes
// the same /dev path: a v4l2loopback device fed with a video, or another USB camera.
import fs from 'node:fs';
import path from 'node:path';
import type { CameraInfo } from './camera.js';

/** What identifies a camera: V4L2 QUERYCAP driver, card and bus_info, and the USB serial number where the device has one. */
export interface CameraIdentity {
  readonly driver: string;
  readonly card: string;
  readonly bus: string;
  readonly serial?: string;
}

/** The driver name v4l2loopback reports in QUERYCAP, whatever card name it was given. */
export const LOOPBACK_DRIVER = 'v4l2 loopback';

/** Replay directories are test and bench fixtures; one identity for all, so enrolling from one and verifying from another works. */
const REPLAY_IDENTITY: CameraIdentity = { driver: 'replay', card: 'replay', bus: 'replay' };

const SERIAL_RE = /^[\x21-\x7e]{1,64}$/;

/** USB serial of a V4L2 node from sysfs (the video4linux device's USB interface's parent), when it has one. */
export function usbSerialOf(device: string, sysRoot = '/sys'): string | undefined {
  try {
    const node = path.basename(fs.realpathSync(device));
    let dir = fs.realpathSync(path.join(sysRoot, 'class', 'video4linux', node, 'device'));
    // The interface directory has no serial; its USB device (one or two levels up) does.
    for (let i = 0; i < 3 && dir.startsWith(sysRoot); i++) {
      const file = path.join(dir, 'serial');
      if (fs.existsSync(file)) {
        const serial = fs.readFileSync(file, 'utf8').trim();
        return SERIAL_RE.test(serial) ? serial : undefined;
      }
      dir = path.dirname(dir);
    }
  } catch {
    // not a USB camera, or sysfs not mounted (containers): no serial
  }
  return undefined;
}

export function identityOf(info: CameraInfo): CameraIdentity {
  if (info.backend === 'replay') return REPLAY_IDENTITY;
  const serial = info.serial;
  return { driver: info.driver ?? '', card: info.card ?? '', bus: info.busInfo ?? '', ...(serial ? { serial } : {}) };
}

export function sameCamera(a: CameraIdentity, b: CameraIdentity): boolean {
  return a.driver === b.driver && a.card === b.card && a.bus === b.bus && (a.serial ?? '') === (b.serial ?? '');
}

export function describeCamera(c: CameraIdentity): string {
  return `"${c.card}" (driver ${c.driver}, bus ${c.bus}${c.serial ? `, serial ${c.serial}` : ''})`;
}

export interface CameraTrustSettings {
  allow_loopback: boolean;
  allow_replay: boolean;
}

/** Why this open camera must not be used for authentication or enrolment, or null when it may. */
export function untrustedCamera(info: CameraInfo, settings: CameraTrustSettings): string | null {
  if (info.backend === 'replay' && !settings.allow_replay) {
    return `${info.spec} is a replay directory, accepted only with camera.allow_replay = true (tests and benches)`;
  }
  if (info.backend === 'v4l2' && info.driver === LOOPBACK_DRIVER && !settings.allow_loopback) {
    return `${info.source} is a v4l2loopback device (anyone who can write to it can show it a video); set camera.allow_loopback = true only if that is intended`;
  }
  return null;
}
