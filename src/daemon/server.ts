import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { serviceEnabled, type Config } from '../config/config.js';
import {
  FrameReader,
  ProtocolError,
  encodeAnswer,
  encodeEvent,
  type EventCode,
  type Answer,
  type Request,
  type Result,
  type ReasonFor,
} from '../protocol/index.js';
import { TemplateStore } from '../store/store.js';
import { isValidUserName } from '../store/username.js';
import { CameraManager, LeaseError } from '../auth/camera-manager.js';
import type { FaceEngine } from '../auth/engine.js';
import type { Logger } from './log.js';
import { peerCredOf, userNameOfUid, type PeerCred } from './peercred.js';
import { verifyFace, type LivenessSummary } from '../auth/verify.js';
import type { LivenessJudge } from '../liveness/judge.js';

/** How long a client has to send its request after connecting. */
const REQUEST_TIMEOUT_MS = 2000;
/** Time kept back from the client's deadline so the answer arrives before the client gives up. */
const ANSWER_MARGIN_MS = 120;
/** Connections served at once; more are closed at once (each costs a socket and a little memory). */
const MAX_CONNECTIONS = 64;

/** PAM_RHOST values that still mean "this machine" (sudo and some greeters set them). */
const LOCAL_RHOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain']);

export function isRemoteRhost(rhost: string): boolean {
  return !LOCAL_RHOSTS.has(rhost.trim().toLowerCase());
}

/**
 * Who may ask for whose face: uid 0 for anyone, any other uid only for its own login name (kscreenlocker and
 * su-less desktops run PAM as the user). Shared by the socket and the D-Bus front end (src/dbus).
 */
export function mayAskFor(uid: number, user: string, userName: (uid: number) => string | null = userNameOfUid): boolean {
  return uid === 0 || userName(uid) === user;
}

export interface ServerDeps {
  config: Config;
  store: TemplateStore;
  engine: FaceEngine;
  /** The liveness judge (src/liveness/load.ts); null only when config liveness.enabled is false. */
  liveness: LivenessJudge | null;
  camera: CameraManager;
  log: Logger;
  /** Injected for tests; production uses SO_PEERCRED and getpwuid_r. */
  peerCred?: (socket: net.Socket) => PeerCred;
  userName?: (uid: number) => string | null;
}

type AnswerFn = <R extends Result>(result: R, reason: ReasonFor<R>) => void;

/**
 * The facegated socket server: one request per connection (docs/protocol.md), authorised by the peer's
 * SO_PEERCRED uid, answered immediately when the camera is not needed, else after a verification.
 */
export class FacegateServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private closing = false;
  /** Requests answered, by result (status and tests). */
  readonly counts = { allow: 0, deny: 0, unavailable: 0 };

  constructor(private readonly deps: ServerDeps) {
    // Fail closed: a config that asks for liveness never runs without it.
    if (deps.config.liveness.enabled && !deps.liveness) throw new Error('liveness is enabled in the config but no liveness judge was loaded');
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (s) => this.onConnection(s));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('error', (err) => deps.log.error('server error', { error: err.message }));
  }

  /** Listens on a path: removes a stale socket file first, then makes it connectable by everyone. */
  async listenPath(file: string): Promise<void> {
    try {
      const st = fs.lstatSync(file);
      if (!st.isSocket()) throw new Error(`${file} exists and is not a socket`);
      // A live daemon would answer; a dead one left its socket behind.
      if (await canConnect(file)) throw new Error(`another facegated is listening on ${file}`);
      fs.unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(file, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // Authorisation is per request (SO_PEERCRED), so anyone may connect: kscreenlocker runs PAM as the user.
    fs.chmodSync(file, 0o666);
  }

  /** Serves an inherited listening socket (systemd socket activation, LISTEN_FDS). */
  async listenFd(fd: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ fd }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, ends every connection (their requests abort and free the camera), then resolves. */
  async close(): Promise<void> {
    this.closing = true;
    // server.close() waits for open connections, so they go first: a client stalled on a 10-minute deadline must
    // not hold up a restart. The PAM module sees the connection drop and falls back to the password at once.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private onConnection(socket: net.Socket): void {
    const { log } = this.deps;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let cred: PeerCred;
    try {
      cred = (this.deps.peerCred ?? peerCredOf)(socket);
    } catch (err) {
      log.error('peer credentials unavailable', { error: (err as Error).message });
      socket.end(encodeAnswer('unavailable', 'internal-error'));
      return;
    }
    const reader = new FrameReader();
    const abort = new AbortController();
    let answered = false;
    let gotRequest = false;
    const answer: AnswerFn = (result, reason) => {
      if (answered) return;
      answered = true;
      this.counts[result]++;
      if (!socket.destroyed && socket.writable) socket.end(encodeAnswer(result, reason));
      else socket.destroy();
    };
    const event = (e: EventCode): void => {
      if (!answered && !socket.destroyed && socket.writable) socket.write(encodeEvent(e));
    };
    const requestTimer = setTimeout(() => {
      log.warn('no request in time', { uid: cred.uid, pid: cred.pid });
      socket.destroy();
    }, REQUEST_TIMEOUT_MS);
    requestTimer.unref();

    socket.on('data', (chunk: Buffer) => {
      if (gotRequest) return; // one request per connection; anything after it is ignored
      let msgs;
      try {
        msgs = reader.push(chunk);
      } catch (err) {
        clearTimeout(requestTimer);
        gotRequest = true;
        log.warn('bad request', { uid: cred.uid, pid: cred.pid, code: err instanceof ProtocolError ? err.code : 'error' });
        answer('unavailable', 'bad-request');
        return;
      }
      const first = msgs[0];
      if (!first) return;
      clearTimeout(requestTimer);
      gotRequest = true;
      if (first.type !== 'request' || msgs.length > 1) {
        log.warn('bad request', { uid: cred.uid, pid: cred.pid, code: first.type !== 'request' ? 'unexpected-type' : 'trailing-data' });
        answer('unavailable', 'bad-request');
        return;
      }
      this.handle(first, cred, abort.signal, event, answer).catch((err: unknown) => {
        log.error('request failed', { user: first.user, error: err instanceof Error ? err.message : String(err) });
        answer('unavailable', 'internal-error');
      });
    });
    socket.on('end', () => {
      if (!gotRequest) {
        clearTimeout(requestTimer);
        try {
          reader.end();
        } catch {
          log.warn('bad request', { uid: cred.uid, pid: cred.pid, code: 'truncated' });
          answer('unavailable', 'bad-request');
          return;
        }
        // A connect-and-close (facegate status probing the socket) is not an error.
        socket.end();
        return;
      }
      // End of stream after the request means the client gave up (its deadline, Ctrl-C): stop and free the
      // camera. Clients must not shut down their write side while waiting (docs/protocol.md).
      abort.abort();
      if (!answered) socket.destroy();
    });
    socket.on('close', () => {
      clearTimeout(requestTimer);
      abort.abort();
    });
  }

  /**
   * Runs one request exactly as a socket request (policy, camera queue, verification) for another front end
   * (src/dbus). Resolves with the answer, or null when `signal` aborted it first (the caller left or cancelled).
   */
  async run(req: Request, cred: PeerCred, signal: AbortSignal, onEvent: (e: EventCode) => void): Promise<Answer | null> {
    let answer: Answer | null = null;
    const set: AnswerFn = (result, reason) => {
      if (answer) return;
      this.counts[result]++;
      answer = { type: 'answer', result, reason } as Answer;
    };
    try {
      await this.handle(req, cred, signal, (e) => answer === null && onEvent(e), set);
    } catch (err) {
      this.deps.log.error('request failed', { user: req.user, error: err instanceof Error ? err.message : String(err) });
      set('unavailable', 'internal-error');
    }
    return answer;
  }

  private async handle(req: Request, cred: PeerCred, signal: AbortSignal, event: (e: EventCode) => void, answer: AnswerFn): Promise<void> {
    const { config, store, engine, camera, log } = this.deps;
    const t0 = performance.now();
    const fields = { user: req.user, service: req.service, uid: cred.uid, pid: cred.pid };
    const done = <R extends Result>(result: R, reason: ReasonFor<R>, extra: Record<string, number | string | undefined> = {}): void => {
      answer(result, reason);
      log.info('answer', { ...fields, result, reason, ms: Math.round(performance.now() - t0), ...extra });
    };
    if (this.closing) return done('unavailable', 'shutting-down');
    if (!isValidUserName(req.user)) return done('unavailable', 'bad-request');
    if (!mayAskFor(cred.uid, req.user, this.deps.userName)) return done('unavailable', 'not-permitted');
    if (isRemoteRhost(req.rhost)) return done('unavailable', 'remote-session');
    if (!serviceEnabled(config, req.service)) return done('unavailable', 'disabled');
    const lookup = store.templatesFor(req.user, engine.models);
    if (lookup.byModel.size === 0) {
      if (lookup.stale.length > 0) return done('unavailable', 'model-mismatch');
      return done('unavailable', store.templateCount(req.user) > 0 ? 'model-mismatch' : 'no-templates');
    }
    const matcher = engine.matcher(lookup.byModel, config.verify.target_far);
    if (!matcher) return done('unavailable', 'model-mismatch');

    const deadline = t0 + Math.min(req.deadlineMs, config.verify.timeout * 1000) - ANSWER_MARGIN_MS;
    let lease;
    try {
      lease = await camera.acquire(deadline, signal, () => event('queued'));
    } catch (err) {
      if (err instanceof LeaseError) {
        if (err.reason === 'aborted') return log.info('client left', fields);
        return done('unavailable', err.reason === 'busy' ? 'busy' : 'camera-error', { error: err.reason === 'camera-error' ? err.message : undefined });
      }
      throw err;
    }
    try {
      event('looking');
      const run = await verifyFace({
        nextFrame: (dl, sig) => lease.nextFrame(dl, sig),
        engine,
        matcher,
        liveness: config.liveness.enabled ? this.deps.liveness : null,
        settings: { ...config.verify, dark_threshold: config.camera.dark_threshold },
        deadline,
        signal,
        onEvent: event,
      });
      if (signal.aborted) return log.info('client left', { ...fields, frames: run.frames.length });
      const { result, reason } = run.outcome;
      done(result, reason as ReasonFor<typeof result>, {
        frames: run.frames.length,
        best: run.bestScore !== undefined ? Number(run.bestScore.toFixed(4)) : undefined,
        threshold: Number(run.threshold.toFixed(4)),
        ...livenessFields(run.liveness),
      });
    } catch (err) {
      if (err instanceof LeaseError) return done('unavailable', 'camera-error', { error: err.message });
      throw err;
    } finally {
      lease.release();
    }
  }
}

/** The liveness stage on the answer line: verdict, cost and each cue's window value (numbers only, never images). */
function livenessFields(l: LivenessSummary | undefined): Record<string, number | string | undefined> {
  if (!l) return {};
  const out: Record<string, number | string | undefined> = { live: l.live ? 1 : 0, live_frames: l.frames, live_ms: Math.round(l.ms) };
  if (l.failed.length > 0) out.live_failed = l.failed.join(',');
  for (const [cue, v] of Object.entries(l.window)) if (v !== undefined) out[`cue_${cue}`] = Number(v.toFixed(4));
  return out;
}

function canConnect(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
