import { performance } from 'node:perf_hooks';
import { CameraError, openCamera, type Camera, type CameraInfo, type Frame } from '../camera/camera.js';
import type { Logger } from '../daemon/log.js';

/**
 * A frame captured this long before the request still shows whoever is at the keyboard now; accepting it saves
 * waiting for the next frame (up to 33 ms at 30 fps) when the camera was kept open between requests.
 */
const FRESH_MS = 50;

export type CameraOpener = (spec: string) => Promise<Camera>;

export class LeaseError extends Error {
  constructor(
    readonly reason: 'busy' | 'aborted' | 'camera-error',
    message: string,
  ) {
    super(message);
  }
}

interface Waiter {
  grant: () => void;
  fail: (err: LeaseError) => void;
  priority: boolean;
}

export interface AcquireOptions {
  /** Served before every non-priority request, and cuts a non-priority holder short (uid 0: greeters, sudo). */
  priority?: boolean;
  /** Called once if a priority request needs the camera this lease holds; the holder should stop and release. */
  onPreempt?: () => void;
}

/** Why an open camera must not be used (src/camera/identity.ts untrustedCamera), or null. */
export type CameraCheck = (info: CameraInfo) => string | null;

/** Exclusive use of the camera for one request; release() hands it to the next request in the queue. */
export interface CameraLease {
  /** The open camera's description (identity: driver, card, bus, serial). */
  readonly info: CameraInfo;
  /** The newest frame captured after `notBefore` and newer than the last one returned; null at the deadline or abort. */
  nextFrame(deadline: number, signal?: AbortSignal): Promise<Frame | null>;
  release(): void;
}

/**
 * Owns the one camera. Requests take turns (FIFO, each waiting only until its own deadline; priority requests
 * first, and a priority request cuts a non-priority holder short). While a request holds
 * the camera a pump reads frames continuously and keeps only the newest, so a slow frame analysis never
 * works on a stale, queued frame. After the last request the camera stays open `idleCloseMs`, then closes.
 */
export class CameraManager {
  private camera: Camera | null = null;
  private opening: Promise<Camera> | null = null;
  private pump: Promise<void> | null = null;
  private latest: Frame | null = null;
  private pumpError: Error | null = null;
  private frameWaiters = new Set<() => void>();
  private held = false;
  private holder: { priority: boolean; preempt?: () => void } | null = null;
  private queue: Waiter[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  /** How many times the camera was opened (tests check that refused requests never open it). */
  opens = 0;

  constructor(
    private readonly spec: string,
    private readonly idleCloseMs: number,
    private readonly log: Logger,
    private readonly opener: CameraOpener = (s) => openCamera(s),
    private readonly check: CameraCheck = () => null,
  ) {}

  get busy(): boolean {
    return this.held;
  }

  get isOpen(): boolean {
    return this.camera !== null;
  }

  /**
   * Waits for the camera until `deadline` (performance.now() ms). `onQueued` is called if another request
   * holds it. Rejects with LeaseError busy (deadline), aborted (client left) or camera-error (cannot open).
   */
  async acquire(deadline: number, signal?: AbortSignal, onQueued?: () => void, opts: AcquireOptions = {}): Promise<CameraLease> {
    if (signal?.aborted) throw new LeaseError('aborted', 'client went away');
    const priority = opts.priority === true;
    if (this.held) {
      onQueued?.();
      if (priority && this.holder && !this.holder.priority && this.holder.preempt) {
        const preempt = this.holder.preempt;
        this.holder.preempt = undefined;
        preempt();
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          grant: () => {
            cleanup();
            resolve();
          },
          fail: (e) => {
            cleanup();
            reject(e);
          },
          priority,
        };
        const timer = setTimeout(() => waiter.fail(new LeaseError('busy', 'camera busy until the deadline')), Math.max(0, deadline - performance.now()));
        const onAbort = (): void => waiter.fail(new LeaseError('aborted', 'client went away'));
        const cleanup = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.queue = this.queue.filter((w) => w !== waiter);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        // Priority waiters keep FIFO order among themselves, ahead of every other waiter.
        const at = priority ? this.queue.findIndex((w) => !w.priority) : -1;
        if (at < 0) this.queue.push(waiter);
        else this.queue.splice(at, 0, waiter);
      });
    }
    this.held = true;
    this.holder = { priority, ...(opts.onPreempt ? { preempt: opts.onPreempt } : {}) };
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    try {
      await this.ensureOpen();
    } catch (err) {
      this.handOver();
      const msg = err instanceof Error ? err.message : String(err);
      throw new LeaseError('camera-error', msg);
    }
    const info = this.camera!.info;
    const problem = this.check(info);
    if (problem) {
      this.log.warn('camera refused', { camera: this.spec, error: problem });
      await this.closeCamera('refused');
      this.handOver();
      throw new LeaseError('camera-error', problem);
    }
    const notBefore = performance.now();
    let lastSeq = -1;
    let released = false;
    return {
      info,
      nextFrame: async (dl, sig) => {
        for (;;) {
          if (released) return null;
          const f = this.latest;
          if (f && f.sequence > lastSeq && f.timestampMs >= notBefore - FRESH_MS) {
            lastSeq = f.sequence;
            return f;
          }
          if (this.pumpError) throw new LeaseError('camera-error', this.pumpError.message);
          if (!this.pump) throw new LeaseError('camera-error', 'camera stopped delivering frames');
          if (sig?.aborted || performance.now() >= dl) return null;
          await this.waitFrame(dl, sig);
        }
      },
      release: () => {
        if (released) return;
        released = true;
        this.handOver();
      },
    };
  }

  private waitFrame(deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.frameWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
      signal?.addEventListener('abort', done, { once: true });
      this.frameWaiters.add(done);
    });
  }

  private wakeFrameWaiters(): void {
    for (const w of [...this.frameWaiters]) w();
  }

  private handOver(): void {
    this.holder = null;
    const next = this.queue.shift();
    if (next) {
      next.grant();
      return;
    }
    this.held = false;
    if (this.idleCloseMs <= 0) void this.closeCamera('idle');
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (!this.held) void this.closeCamera('idle');
      }, this.idleCloseMs);
      this.idleTimer.unref();
    }
  }

  private async ensureOpen(): Promise<void> {
    if (this.camera && this.pump && !this.pumpError) return;
    if (this.camera) await this.closeCamera('restart');
    if (!this.opening) {
      const t0 = performance.now();
      this.opening = this.opener(this.spec);
      try {
        this.camera = await this.opening;
      } finally {
        this.opening = null;
      }
      this.opens++;
      this.log.info('camera open', { camera: this.spec, open_ms: Math.round(performance.now() - t0) });
      this.latest = null;
      this.pumpError = null;
      const cam = this.camera;
      this.pump = (async () => {
        try {
          for await (const frame of cam.frames()) {
            this.latest = frame;
            this.wakeFrameWaiters();
          }
        } catch (err) {
          this.pumpError = err instanceof Error ? err : new Error(String(err));
          this.log.warn('camera error', { camera: this.spec, code: err instanceof CameraError ? err.code : undefined, error: this.pumpError.message });
        } finally {
          if (this.camera === cam) this.pump = null;
          this.wakeFrameWaiters();
        }
      })();
    } else {
      await this.opening;
    }
  }

  private async closeCamera(why: string): Promise<void> {
    const cam = this.camera;
    if (!cam) return;
    this.camera = null;
    this.latest = null;
    const pump = this.pump;
    this.pump = null;
    try {
      await cam.close();
      await pump;
    } catch (err) {
      this.log.warn('camera close failed', { error: err instanceof Error ? err.message : String(err) });
    }
    this.log.info('camera closed', { why });
  }

  /** Refuses queued requests and closes the camera (daemon shutdown). */
  async shutdown(): Promise<void> {
    for (const w of [...this.queue]) w.fail(new LeaseError('busy', 'shutting down'));
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await this.closeCamera('shutdown');
  }
}
