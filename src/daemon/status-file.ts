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

/** Writes the status file (0644: it holds nothing secret) atomically; returns its path. */
export function writeStatus(socketPath: string, status: DaemonStatus): string {
  const file = statusFileFor(socketPath);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644 });
  fs.chmodSync(tmp, 0o644);
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
