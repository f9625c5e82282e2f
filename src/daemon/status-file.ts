import fs from 'node:fs';
import path from 'node:path';

/** What facegated tells `facegate status` about itself: written once it is ready, beside its socket. */
export interface DaemonStatus {
  pid: number;
  started: string;
  ready_ms: number;
  socket: string;
  socket_activated: boolean;
  camera: string;
  models: Array<{ id: string; sha256: string }>;
  target_far: number;
}

export function statusFileFor(socketPath: string): string {
  return path.join(path.dirname(socketPath), 'facegated.status.json');
}

/**
 * Writes the status file (0644: it holds nothing secret) atomically; returns its path. The temporary file is
 * created new (O_EXCL) without following symlinks (O_NOFOLLOW), then renamed over the old one, so nothing planted
 * in the directory can make the daemon write elsewhere or into a file someone else holds open.
 */
export function writeStatus(socketPath: string, status: DaemonStatus): string {
  const file = statusFileFor(socketPath);
  const tmp = `${file}.${process.pid}.tmp`;
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;
  const open = (): number => fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644);
  let fd: number;
  try {
    fd = open();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Left by an earlier process with our pid: unlink removes a symlink itself, never its target.
    fs.unlinkSync(tmp);
    fd = open();
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(status, null, 2)}\n`);
    fs.fchmodSync(fd, 0o644);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

export function removeStatus(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Reads and checks the status file; null if absent, unreadable or not what facegated writes. */
export function readStatus(socketPath: string): DaemonStatus | null {
  try {
    const v = JSON.parse(fs.readFileSync(statusFileFor(socketPath), 'utf8')) as Partial<DaemonStatus>;
    if (typeof v.pid !== 'number' || typeof v.ready_ms !== 'number' || !Array.isArray(v.models)) return null;
    return v as DaemonStatus;
  } catch {
    return null;
  }
}
