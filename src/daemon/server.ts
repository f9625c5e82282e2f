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
  type Reset,
  type Result,
  type ReasonFor,
} from '../protocol/index.js';
import { classifyLocality, isGreeter, mayAskFor, mayReset, sessionOfPid, userSessionsOfPid, type SessionState, type UserState } from '../policy/index.js';
import type { AttemptToken } from '../store/lockout.js';
import type { TemplateStore } from '../store/store.js';
import { isValidUserName } from '../store/username.js';
import { type CameraManager, LeaseError } from '../auth/camera-manager.js';
import type { FaceEngine } from '../auth/engine.js';
import { describeCamera, identityOf } from '../camera/identity.js';
import type { Logger } from './log.js';
import { peerCredOf, type PeerCred } from './peercred.js';
import { verifyFace, type LivenessSummary } from '../auth/verify.js';
import type { LivenessJudge } from '../liveness/judge.js';
import { UserDirectory, type UserLookup } from './user-directory.js';

/** How long a client has to send its request after connecting. */
const REQUEST_TIMEOUT_MS = 2000;
/** Time kept back from the client's deadline so the answer arrives before the client gives up. */
const ANSWER_MARGIN_MS = 120;
/**
 * A request still waiting for the camera this close to its deadline gives up (`busy`): opening the camera and
 * scoring the 2 frames the attempt rule needs rarely fits in less, and answering early keeps the late timers of a
 * starved machine within the PAM module's 250 ms grace (docs/reliability.md).
 */
const MIN_VERIFY_MS = 1000;
/**
 * Connections served at once. Of these, ROOT_RESERVED only ever go to uid 0 (greeters, sudo, login), and no other
 * uid may hold more than PER_UID_CONNECTIONS, so a local user flooding the socket cannot lock anyone else out.
 * Refused connections get `unavailable`/`busy` at once.
 */
const MAX_CONNECTIONS = 128;
const ROOT_RESERVED = 32;
const PER_UID_CONNECTIONS = 8;
/** Accepted sockets beyond which the kernel-level accept is refused outright (bounds file descriptors). */
const HARD_CONNECTION_LIMIT = 1024;
/** After its answer a connection gets this long to read it and close, then it is closed for it. */
const LINGER_MS = 250;

export interface ServerDeps {
  config: Config;
  /** null when the database could not be opened: every request is answered `unavailable` at once. */
  store: TemplateStore | null;
  engine: FaceEngine;
  /** The liveness judge (src/liveness/load.ts); null only when config liveness.enabled is false. */
  liveness: LivenessJudge | null;
  camera: CameraManager;
  log: Logger;
  /** Injected for tests; production uses SO_PEERCRED and getpwuid_r. */
  peerCred?: (socket: net.Socket) => PeerCred;
  userName?: (uid: number) => string | null;
  /** What logind says about the peer's process (src/policy/session.ts); injected for tests. */
  sessionOf?: (pid: number) => SessionState;
  /** What logind says about the sessions of the peer process's real uid (src/policy/session.ts); for tests. */
  userSessionsOf?: (pid: number) => UserState;
  /** passwd look-ups (default: a cached, asynchronous UserDirectory over NSS). */
  users?: UserLookup;
}

/** A verification in flight for a user: at most one at a time per user (issue 7). */
interface InFlight {
  priority: boolean;
  preempt: () => void;
}

type AnswerFn = <R extends Result>(result: R, reason: ReasonFor<R>) => void;
type DoneFn = <R extends Result>(result: R, reason: ReasonFor<R>, extra?: Record<string, number | string | undefined>) => void;
/** What an attempt means for the user's lockout counter. */
type AttemptOutcome = 'allow' | 'failed' | 'void';

/**
 * The facegated socket server: one request per connection (docs/protocol.md), authorised by the peer's
 * SO_PEERCRED uid, answered immediately when the camera is not needed, else after a verification.
 */
export class FacegateServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private closing = false;
  /** Requests answered, by result (status and tests). */
  readonly counts = { allow: 0, deny: 0, unavailable: 0, ok: 0 };
  /** Connections refused because their uid (or everyone but root) had used its slots. */
  refusedConnections = 0;
  private readonly perUid = new Map<number, number>();
  private nonRootConnections = 0;
  private rootConnections = 0;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly users: UserLookup;

  constructor(private readonly deps: ServerDeps) {
    // Fail closed: a config that asks for liveness never runs without it.
    if (deps.config.liveness.enabled && !deps.liveness) throw new Error('liveness is enabled in the config but no liveness judge was loaded');
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (s) => this.onConnection(s));
    this.server.maxConnections = HARD_CONNECTION_LIMIT;
    const userName = deps.userName;
    this.users = deps.users ?? (userName ? withNames(userName, new UserDirectory()) : new UserDirectory());
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
    // The client's deadline runs from before it connected; counting ours from accept (not from when the request
    // was parsed) keeps a busy daemon from answering after the client has given up.
    const acceptedAt = performance.now();
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let cred: PeerCred;
    try {
      cred = (this.deps.peerCred ?? peerCredOf)(socket);
    } catch (err) {
      log.error('peer credentials unavailable', { error: (err as Error).message });
      endSoon(socket, encodeAnswer('unavailable', 'internal-error'));
      return;
    }
    if (!this.takeSlot(cred.uid)) {
      this.refusedConnections++;
      // One line per refusal would let a flood fill the journal; every 100th is enough to see it happening.
      if (this.refusedConnections % 100 === 1) log.warn('connection refused: too many', { uid: cred.uid, refused: this.refusedConnections });
      this.counts.unavailable++;
      // Answered before its request is read: kept open (its bytes discarded) until the client closes or for the
      // request timeout, so the client's write of its request does not fail (EPIPE) before it reads this answer.
      socket.resume();
      endSoon(socket, encodeAnswer('unavailable', 'busy'), REQUEST_TIMEOUT_MS);
      return;
    }
    socket.on('close', () => this.freeSlot(cred.uid));
    const reader = new FrameReader();
    const abort = new AbortController();
    let answered = false;
    let gotRequest = false;
    const answer: AnswerFn = (result, reason) => {
      if (answered) return;
      answered = true;
      this.counts[result]++;
      if (!socket.destroyed && socket.writable) endSoon(socket, encodeAnswer(result, reason));
      else socket.destroy();
    };
    const event = (e: EventCode): void => {
      if (!answered && !socket.destroyed && socket.writable) socket.write(encodeEvent(e));
    };
    const requestTimer = setTimeout(() => {
      // After a stall (a starved machine, a long GC) timers run before pending reads in the same loop turn; the
      // check phase comes after them, so a request that did arrive in time is read before this decides.
      setImmediate(() => {
        if (gotRequest || socket.destroyed) return;
        log.warn('no request in time', { uid: cred.uid, pid: cred.pid });
        socket.destroy();
      });
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
      if ((first.type !== 'request' && first.type !== 'reset') || msgs.length > 1) {
        log.warn('bad request', { uid: cred.uid, pid: cred.pid, code: msgs.length > 1 ? 'trailing-data' : 'unexpected-type' });
        answer('unavailable', 'bad-request');
        return;
      }
      if (first.type === 'reset') {
        this.reset(first, cred, answer);
        return;
      }
      this.handle(first, cred, abort.signal, event, answer, acceptedAt).catch((err: unknown) => {
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
        endSoon(socket);
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

  /** "This user authenticated another way": clears the lockout counter, for root peers only (docs/lockout.md). */
  private reset(req: Reset, cred: PeerCred, answer: AnswerFn): void {
    const { store, log } = this.deps;
    const fields = { user: req.user, service: req.service, uid: cred.uid, pid: cred.pid };
    if (this.closing) return answer('unavailable', 'shutting-down');
    if (!store) return answer('unavailable', 'internal-error');
    if (!isValidUserName(req.user)) return answer('unavailable', 'bad-request');
    if (!mayReset(cred.uid)) {
      log.warn('reset refused', { ...fields, reason: 'not-permitted' });
      return answer('unavailable', 'not-permitted');
    }
    try {
      const cleared = store.lockout.clear(req.user);
      log.info('reset', { ...fields, cleared: cleared ? 1 : 0 });
      answer('ok', 'reset');
    } catch (err) {
      log.error('reset failed', { ...fields, error: err instanceof Error ? err.message : String(err) });
      answer('unavailable', 'internal-error');
    }
  }

  private async handle(req: Request, cred: PeerCred, signal: AbortSignal, event: (e: EventCode) => void, answer: AnswerFn, startedAt?: number): Promise<void> {
    const { config, store, engine, log } = this.deps;
    const t0 = startedAt ?? performance.now();
    const fields = { user: req.user, service: req.service, uid: cred.uid, pid: cred.pid };
    const done: DoneFn = (result, reason, extra = {}) => {
      answer(result, reason);
      log.info('answer', { ...fields, result, reason, ms: Math.round(performance.now() - t0), ...extra });
    };
    if (this.closing) return done('unavailable', 'shutting-down');
    if (!store) return done('unavailable', 'internal-error', { error: 'template database unavailable (facegate doctor)' });
    if (!isValidUserName(req.user)) return done('unavailable', 'bad-request');
    // Root may ask for anyone without a look-up; others need their name, from a cache or off the event loop.
    let peerName: string | null = null;
    let uid: number | null;
    try {
      if (cred.uid !== 0) peerName = await this.users.nameOf(cred.uid);
      if (!mayAskFor(cred.uid, req.user, () => peerName)) return done('unavailable', 'not-permitted');
      // The PAM module made the same check before connecting (pam/policy.c); this one covers every other client.
      const session = (this.deps.sessionOf ?? sessionOfPid)(cred.pid);
      const greeter = isGreeter(config, req.service);
      // The user's sessions matter only for a caller in none (a desktop terminal started as a user unit), as in
      // the module; the uid is the peer's real one (sudo's invoker), not SO_PEERCRED's effective uid 0.
      const readUser = req.rhost === '' && session === 'none' && !greeter;
      const user: UserState = readUser ? (this.deps.userSessionsOf ?? userSessionsOfPid)(cred.pid) : 'error';
      const locality = classifyLocality({ rhost: req.rhost, session, greeter, user });
      if (locality !== 'local') {
        return done('unavailable', 'remote-session', { why: locality, session, greeter: greeter ? 1 : 0, user: readUser ? user : undefined });
      }
      if (!serviceEnabled(config, req.service)) return done('unavailable', 'disabled');
      uid = cred.uid !== 0 ? cred.uid : await this.users.uidOf(req.user);
    } catch (err) {
      return done('unavailable', 'internal-error', { error: err instanceof Error ? err.message : String(err) });
    }
    if (signal.aborted) return log.info('client left', fields);
    const priority = cred.uid === 0;
    // Checked here too, before any database work, so a flood of requests for one user costs little.
    const early = this.inFlight.get(req.user);
    if (early && (!priority || early.priority)) return done('unavailable', 'busy');
    // Only faces bound to the account's current uid: a deleted user's face must not unlock a new account that
    // re-uses the name.
    if (uid === null) return done('unavailable', 'no-templates');
    const lookup = store.templatesFor(req.user, engine.models, { uid });
    if (lookup.byModel.size === 0) {
      if (lookup.stale.length > 0) return done('unavailable', 'model-mismatch');
      if (lookup.otherAccount > 0) return done('unavailable', 'no-templates', { error: 'templates belong to another uid (account re-created?): re-enrol' });
      return done('unavailable', store.templateCount(req.user) > 0 ? 'model-mismatch' : 'no-templates');
    }
    if (!engine.matcher(lookup.byModel, config.verify.target_far)) return done('unavailable', 'model-mismatch');
    // At most one verification per user: a second one is refused at once, unless root asks while the one running
    // came from the user's own session (root's greeter or sudo is served; the user's lock screen falls back).
    const running = this.inFlight.get(req.user);
    if (running) {
      if (!priority || running.priority) return done('unavailable', 'busy');
      running.preempt();
    }
    const attempt = store.lockout.begin(req.user, config.lockout);
    if (attempt.locked) return done('unavailable', 'locked-out', { until: new Date(attempt.until).toISOString() });
    const preempted = new AbortController();
    const mine: InFlight = { priority, preempt: () => preempted.abort() };
    this.inFlight.set(req.user, mine);
    // From here the attempt counts as failed unless it ends in allow or without any face compared.
    let counts: AttemptOutcome = 'failed';
    try {
      counts = await this.verifyWithCamera(req, store, uid, { priority, mine, preempted: preempted.signal }, signal, event, t0, fields, done);
    } finally {
      if (this.inFlight.get(req.user) === mine) this.inFlight.delete(req.user);
      this.settleAttempt(store, attempt.token, counts, fields);
    }
  }

  /** Applies an attempt's outcome to the user's lockout counter. */
  private settleAttempt(store: TemplateStore, token: AttemptToken, outcome: AttemptOutcome, fields: Record<string, string | number>): void {
    try {
      if (outcome === 'allow') store.lockout.clear(token.user);
      else if (outcome === 'void') store.lockout.undo(token);
    } catch (err) {
      this.deps.log.error('lockout update failed', { ...fields, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Takes the camera and verifies. Returns what the attempt means for the lockout: 'void' when no face was
   * compared (busy, camera error, no face, client gone before), 'failed' when one was and it did not match
   * (deny, or the client hung up after faces were compared: else hanging up just before the deny dodges the count).
   */
  private async verifyWithCamera(
    req: Request,
    store: TemplateStore,
    uid: number,
    turn: { priority: boolean; mine: InFlight; preempted: AbortSignal },
    signal: AbortSignal,
    event: (e: EventCode) => void,
    t0: number,
    fields: Record<string, string | number>,
    done: DoneFn,
  ): Promise<AttemptOutcome> {
    const { config, engine, camera, log } = this.deps;
    const deadline = t0 + Math.min(req.deadlineMs, config.verify.timeout * 1000) - ANSWER_MARGIN_MS;
    // Root's request pre-empts this one (a lower-priority holder or waiter) through `stop`.
    const stop = AbortSignal.any([signal, turn.preempted]);
    let lease;
    try {
      lease = await camera.acquire(deadline - MIN_VERIFY_MS, stop, () => event('queued'), { priority: turn.priority, onPreempt: turn.mine.preempt });
    } catch (err) {
      if (err instanceof LeaseError) {
        if (signal.aborted) log.info('client left', fields);
        else if (err.reason === 'aborted') done('unavailable', 'busy', { error: 'pre-empted by a root request' });
        else done('unavailable', err.reason === 'busy' ? 'busy' : 'camera-error', { error: err.reason === 'camera-error' ? err.message : undefined });
        return 'void';
      }
      throw err;
    }
    try {
      // The faces enrolled with this very camera (or before cameras were recorded): a swapped or spoofed device
      // that takes the same /dev path does not get to check anyone.
      const current = identityOf(lease.info);
      const usable = store.templatesFor(req.user, engine.models, { uid, camera: current });
      if (usable.byModel.size === 0 && usable.otherCamera > 0) {
        done('unavailable', 'camera-error', { error: `camera ${describeCamera(current)} is not the one ${req.user} enrolled with: re-enrol or restore it` });
        return 'void';
      }
      const matcher = engine.matcher(usable.byModel, config.verify.target_far);
      if (!matcher) {
        done('unavailable', 'model-mismatch');
        return 'void';
      }
      event('looking');
      const run = await verifyFace({
        nextFrame: (dl, sig) => lease.nextFrame(dl, sig),
        engine,
        matcher,
        liveness: config.liveness.enabled ? this.deps.liveness : null,
        settings: { ...config.verify, dark_threshold: config.camera.dark_threshold },
        deadline,
        signal: stop,
        onEvent: event,
      });
      const compared = run.bestScore !== undefined;
      if (signal.aborted) {
        log.info('client left', { ...fields, frames: run.frames.length });
        return compared ? 'failed' : 'void';
      }
      if (turn.preempted.aborted) {
        done('unavailable', 'busy', { error: 'pre-empted by a root request', frames: run.frames.length });
        return compared ? 'failed' : 'void';
      }
      const { result, reason } = run.outcome;
      done(result, reason as ReasonFor<typeof result>, {
        frames: run.frames.length,
        best: run.bestScore !== undefined ? Number(run.bestScore.toFixed(4)) : undefined,
        threshold: Number(run.threshold.toFixed(4)),
        ...livenessFields(run.liveness),
      });
      if (result === 'allow') return 'allow';
      return result === 'deny' || compared ? 'failed' : 'void';
    } catch (err) {
      // Counted: a camera pulled out mid-attempt must not take back the faces it already showed.
      if (err instanceof LeaseError) {
        done('unavailable', 'camera-error', { error: err.message });
        return 'failed';
      }
      throw err;
    } finally {
      lease.release();
    }
  }

  /** Takes a connection slot for a uid; false when its share (or everyone's but root's) is used up. */
  private takeSlot(uid: number): boolean {
    const mine = this.perUid.get(uid) ?? 0;
    if (uid === 0) {
      if (this.rootConnections + this.nonRootConnections >= MAX_CONNECTIONS) return false;
      this.rootConnections++;
    } else if (mine >= PER_UID_CONNECTIONS || this.nonRootConnections >= MAX_CONNECTIONS - ROOT_RESERVED) {
      return false;
    } else {
      this.nonRootConnections++;
    }
    this.perUid.set(uid, mine + 1);
    return true;
  }

  private freeSlot(uid: number): void {
    const n = (this.perUid.get(uid) ?? 1) - 1;
    if (n <= 0) this.perUid.delete(uid);
    else this.perUid.set(uid, n);
    if (uid !== 0) this.nonRootConnections--;
    else this.rootConnections--;
  }
}

/** Sends the last bytes, then closes the connection if the client has not within `lingerMs` (it has its answer). */
function endSoon(socket: net.Socket, last?: Buffer, lingerMs = LINGER_MS): void {
  if (last) socket.end(last);
  else socket.end();
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** The test seam's synchronous uid-to-name function, with name-to-uid from `rest`. */
function withNames(userName: (uid: number) => string | null, rest: UserLookup): UserLookup {
  return { nameOf: async (uid) => userName(uid), uidOf: (name) => rest.uidOf(name) };
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
