import fs from 'node:fs';
import dbus from 'dbus-next';
import type { Config } from '../config/config.js';
import type { Logger } from '../daemon/log.js';
import type { PeerCred } from '../daemon/peercred.js';
import { mayAskFor } from '../policy/index.js';
import { lookupFromSync, UserDirectory, type UserLookup } from '../daemon/user-directory.js';
import type { Answer, EventCode, Request } from '../protocol/index.js';
import type { FaceInfo, ModelRef } from '../store/store.js';
import { API_VERSION, ERRORS, INTERFACE, METHOD_REPLIES, METHODS, OBJECT_PATH, SIGNALS, parentIntrospection, type MethodName, type SignalName } from './api.js';
import { loadIntrospection } from './contract.js';
import { DbusMethodError, checkArgs, checkUser } from './validate.js';

const { Message, MessageType, MessageFlag, Variant } = dbus;
type Msg = InstanceType<typeof Message>;

/** The service name D-Bus verifications run under: `dbus = false` in the config's [services] turns them off. */
export const DBUS_SERVICE = 'dbus';
/** Verifications over D-Bus at once (each holds a place in the camera queue and a little memory). */
const DEFAULT_MAX_VERIFICATIONS = 16;

/** facegated's request path (FacegateServer.run): authorisation, policy, camera queue, verification loop. */
export interface RequestRunner {
  run(req: Request, cred: PeerCred, signal: AbortSignal, onEvent: (e: EventCode) => void): Promise<Answer | null>;
}

export interface DbusServiceDeps {
  runner: RequestRunner;
  store: { listFaces(user: string): FaceInfo[] };
  models: readonly ModelRef[];
  camera: { readonly busy: boolean; readonly isOpen: boolean };
  config: Config;
  log: Logger;
  version: string;
  /** Injected for tests; production resolves uids with getpwuid_r. */
  userName?: (uid: number) => string | null;
  /** passwd look-ups off the event loop (default: a cached UserDirectory; src/daemon/user-directory.ts). */
  users?: UserLookup;
  maxVerifications?: number;
}

interface Running {
  user: string;
  uid: number;
  abort: AbortController;
  /** Settles when the verification has stopped and freed the camera. */
  done: Promise<void>;
}

/**
 * facegate's D-Bus object (docs/dbus.md) on an already connected bus. Every method call is validated and
 * answered with a reply or a named error; nothing a caller sends can throw out of here. The caller's uid comes
 * from the bus daemon, and verifications run through the socket server's own request path, so both front ends
 * apply one policy and share one camera queue.
 */
export class FacegateDbusService {
  private readonly running = new Map<string, Running>();
  private readonly reserved = new Set<string>();
  private closing = false;
  private attached = false;
  /** dbus/org.facegate.Daemon.xml plus the standard interfaces; read once, so a bad file fails the start. */
  private readonly introspection: string;
  private usersLookup: UserLookup | null = null;

  constructor(
    private readonly bus: dbus.MessageBus,
    private readonly deps: DbusServiceDeps,
  ) {
    this.introspection = loadIntrospection();
  }

  /** Starts answering method calls on the connection. */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.bus.addMethodHandler(this.onMethodCall);
    this.bus.on('message', this.onMessage);
  }

  /** Verifications in progress (GetStatus, tests). */
  get verifications(): number {
    return this.running.size;
  }

  /** Stops every verification (their callers get no VerifyResult) and stops answering calls. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = [...this.running.values()];
    for (const r of pending) r.abort.abort();
    await Promise.allSettled(pending.map((r) => r.done));
    if (this.attached) {
      this.bus.removeMethodHandler(this.onMethodCall);
      this.bus.off('message', this.onMessage);
      this.attached = false;
    }
  }

  /** dbus-next method handler: must answer synchronously whether it takes the call. */
  private readonly onMethodCall = (msg: Msg): boolean => {
    try {
      if (msg.type !== MessageType.METHOD_CALL) return false;
      if (msg.interface === 'org.freedesktop.DBus.Peer') return this.peer(msg);
      if (msg.interface === 'org.freedesktop.DBus.Introspectable') return this.introspect(msg);
      if (msg.path !== OBJECT_PATH) return false;
      if (msg.interface === 'org.freedesktop.DBus.Properties') return this.properties(msg);
      if (msg.interface !== undefined && msg.interface !== INTERFACE) return false;
      const member = msg.member;
      if (!Object.hasOwn(METHODS, member)) {
        this.error(msg, 'org.freedesktop.DBus.Error.UnknownMethod', `${INTERFACE} has no method ${String(member).slice(0, 64)}`);
        return true;
      }
      void this.dispatch(member as MethodName, msg);
      return true;
    } catch (err) {
      this.deps.log.error('dbus call failed', { error: err instanceof Error ? err.message : String(err) });
      this.error(msg, ERRORS.internal, 'internal error');
      return true;
    }
  };

  private async dispatch(method: MethodName, msg: Msg): Promise<void> {
    try {
      const args = checkArgs(method, METHODS[method], msg.signature, msg.body);
      switch (method) {
        case 'Verify':
          await this.verify(msg, checkUser(method, args[0]));
          return;
        case 'Cancel':
          await this.cancel(msg);
          return;
        case 'ListEnrolled':
          await this.listEnrolled(msg, checkUser(method, args[0]));
          return;
        case 'GetStatus':
          this.reply(msg, METHOD_REPLIES.GetStatus, [this.status()]);
          return;
      }
    } catch (err) {
      if (err instanceof DbusMethodError) {
        this.deps.log.info('dbus refused', { method, sender: msg.sender, error: err.errorName });
        this.error(msg, err.errorName, err.message);
        return;
      }
      const text = err instanceof Error ? err.message : String(err);
      this.deps.log.error('dbus call failed', { method, sender: msg.sender, error: text });
      this.error(msg, ERRORS.internal, `${method} failed: ${text.slice(0, 200)}`);
    }
  }

  private async verify(msg: Msg, user: string): Promise<void> {
    const sender = this.senderOf(msg);
    if (this.closing) throw new DbusMethodError(ERRORS.shuttingDown, 'facegated is stopping');
    if (this.running.has(sender) || this.reserved.has(sender)) {
      throw new DbusMethodError(ERRORS.alreadyInProgress, 'a verification of this caller is already running; call Cancel or wait for VerifyResult');
    }
    const max = this.deps.maxVerifications ?? DEFAULT_MAX_VERIFICATIONS;
    if (this.running.size + this.reserved.size >= max) throw new DbusMethodError(ERRORS.tooManyRequests, `at most ${max} verifications at once`);
    // Held while asking the bus who the caller is, so a second Verify from the same caller cannot slip in.
    this.reserved.add(sender);
    let cred: PeerCred;
    let watching = false;
    try {
      cred = await this.callerCred(sender);
      await this.authorise(cred.uid, user, sender);
      watching = true;
      await this.watchCaller(sender);
      if (this.closing) throw new DbusMethodError(ERRORS.shuttingDown, 'facegated is stopping');
    } catch (err) {
      if (watching) void this.unwatchCaller(sender);
      throw err;
    } finally {
      this.reserved.delete(sender);
    }

    const abort = new AbortController();
    const running: Running = { user, uid: cred.uid, abort, done: Promise.resolve() };
    this.running.set(sender, running);
    // The reply goes out before the first signal: the caller may treat signals before it as someone else's.
    this.reply(msg, METHOD_REPLIES.Verify, []);
    const request: Request = { type: 'request', user, service: DBUS_SERVICE, tty: '', rhost: '', deadlineMs: this.deps.config.verify.timeout * 1000 };
    running.done = (async () => {
      try {
        const answer = await this.deps.runner.run(request, cred, abort.signal, (e) => this.signal(sender, 'VerifyStatus', [e, false]));
        // A cancelled verification ends with the reply to Cancel, never with a result.
        if (answer && !abort.signal.aborted) {
          this.signal(sender, 'VerifyStatus', [answer.result, true]);
          this.signal(sender, 'VerifyResult', [answer.result, answer.reason]);
        }
      } catch (err) {
        this.deps.log.error('dbus verify failed', { user, error: err instanceof Error ? err.message : String(err) });
        if (!abort.signal.aborted) {
          this.signal(sender, 'VerifyStatus', ['unavailable', true]);
          this.signal(sender, 'VerifyResult', ['unavailable', 'internal-error']);
        }
      } finally {
        this.running.delete(sender);
        void this.unwatchCaller(sender);
      }
    })();
  }

  private async cancel(msg: Msg): Promise<void> {
    const sender = this.senderOf(msg);
    const r = this.running.get(sender);
    if (!r) throw new DbusMethodError(ERRORS.noVerifyInProgress, 'this caller has no verification running');
    r.abort.abort();
    await r.done;
    this.deps.log.info('dbus verify cancelled', { user: r.user, uid: r.uid });
    this.reply(msg, METHOD_REPLIES.Cancel, []);
  }

  private async listEnrolled(msg: Msg, user: string): Promise<void> {
    const sender = this.senderOf(msg);
    const cred = await this.callerCred(sender);
    await this.authorise(cred.uid, user, sender);
    // Only these three fields leave the daemon: no vectors, no model data.
    const faces = this.deps.store.listFaces(user).map((f) => [String(f.id), f.label, new Date(f.created).toISOString()]);
    this.reply(msg, METHOD_REPLIES.ListEnrolled, [faces]);
  }

  private status(): Record<string, InstanceType<typeof Variant>> {
    const { models, camera, config, version } = this.deps;
    return {
      version: new Variant('s', version),
      api_version: new Variant('u', API_VERSION),
      models: new Variant(
        'a(ss)',
        models.map((m) => [m.id, m.sha256]),
      ),
      camera: new Variant('s', config.camera.device),
      camera_open: new Variant('b', camera.isOpen),
      camera_busy: new Variant('b', camera.busy),
      verifications: new Variant('u', this.running.size),
      target_far: new Variant('d', config.verify.target_far),
    };
  }

  /** Same rule as the socket (mayAskFor); a uid that resolves to no name may only act as root would not. */
  private async authorise(uid: number, user: string, sender: string): Promise<void> {
    // The caller's name comes from a cache or the libuv pool: a slow NSS source must not stall the event loop.
    this.usersLookup ??= this.deps.users ?? (this.deps.userName ? lookupFromSync(this.deps.userName, () => null) : new UserDirectory());
    const name = uid === 0 ? null : await this.usersLookup.nameOf(uid).catch(() => null);
    if (!mayAskFor(uid, user, () => name)) {
      this.deps.log.warn('dbus not permitted', { uid, user, sender });
      throw new DbusMethodError(ERRORS.permissionDenied, `uid ${uid} may not act for user ${user}: only root may ask for other users`);
    }
  }

  private senderOf(msg: Msg): string {
    const s = msg.sender;
    if (typeof s !== 'string' || !s.startsWith(':')) throw new DbusMethodError(ERRORS.permissionDenied, 'the caller has no unique bus name');
    return s;
  }

  /** The caller's uid (authoritative, from the bus daemon) and pid (for the logs only). */
  private async callerCred(sender: string): Promise<PeerCred> {
    // Both questions go out at once: one round trip to the bus instead of two.
    const [uidReply, pidReply] = await Promise.allSettled([
      this.busCall('GetConnectionUnixUser', 's', [sender]),
      this.busCall('GetConnectionUnixProcessID', 's', [sender]),
    ]);
    if (uidReply.status === 'rejected') {
      const err: unknown = uidReply.reason;
      throw new DbusMethodError(ERRORS.permissionDenied, `cannot tell who the caller is (${err instanceof Error ? err.message : String(err)})`);
    }
    const uid: unknown = uidReply.value?.body[0];
    if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 0 || uid > 0xffffffff) {
      throw new DbusMethodError(ERRORS.permissionDenied, 'cannot tell who the caller is (unexpected reply)');
    }
    // Not every bus knows the pid (e.g. across a user namespace); it is only logged.
    const pid: unknown = pidReply.status === 'fulfilled' ? pidReply.value?.body[0] : undefined;
    return { uid, pid: typeof pid === 'number' && Number.isInteger(pid) ? pid : 0, gid: -1 };
  }

  /** Aborts the caller's verification when it leaves the bus, so a crashed greeter frees the camera. */
  private async watchCaller(sender: string): Promise<void> {
    // The bus handles one connection's messages in order, so NameHasOwner is answered after the rule is in
    // place: a caller leaving at any moment is seen by one or the other.
    const [, reply] = await Promise.all([this.busCall('AddMatch', 's', [ownerRule(sender)]), this.busCall('NameHasOwner', 's', [sender])]);
    if (reply?.body[0] !== true) throw new DbusMethodError(ERRORS.permissionDenied, 'the caller left the bus');
  }

  private async unwatchCaller(sender: string): Promise<void> {
    try {
      await this.busCall('RemoveMatch', 's', [ownerRule(sender)]);
    } catch {
      // The connection may be closing; the rule dies with it.
    }
  }

  private readonly onMessage = (msg: Msg): void => {
    if (msg.type !== MessageType.SIGNAL || msg.sender !== 'org.freedesktop.DBus' || msg.member !== 'NameOwnerChanged') return;
    if (msg.interface !== 'org.freedesktop.DBus' || msg.signature !== 'sss') return;
    const [name, , newOwner] = msg.body as unknown[];
    if (typeof name !== 'string' || newOwner !== '') return;
    const r = this.running.get(name);
    if (r && !r.abort.signal.aborted) {
      this.deps.log.info('dbus caller left', { user: r.user, uid: r.uid });
      r.abort.abort();
    }
  };

  private busCall(member: string, signature: string, body: unknown[]): Promise<Msg | null> {
    return this.bus.call(
      new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature, body }),
    );
  }

  private peer(msg: Msg): boolean {
    if (msg.member === 'Ping' && !msg.signature) {
      this.reply(msg, '', []);
      return true;
    }
    if (msg.member === 'GetMachineId' && !msg.signature) {
      for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
        try {
          const id = fs.readFileSync(f, 'utf8').trim();
          if (/^[0-9a-f]{32}$/.test(id)) {
            this.reply(msg, 's', [id]);
            return true;
          }
        } catch {
          // try the next file
        }
      }
      this.error(msg, 'org.freedesktop.DBus.Error.FileNotFound', 'no machine id on this system');
      return true;
    }
    this.error(msg, 'org.freedesktop.DBus.Error.UnknownMethod', 'org.freedesktop.DBus.Peer has only Ping and GetMachineId');
    return true;
  }

  /** The interface has no properties; GDBusProxy and friends still ask for them when they connect. */
  private properties(msg: Msg): boolean {
    if (msg.member === 'GetAll' && msg.signature === 's') {
      if (msg.body[0] === INTERFACE) this.reply(msg, 'a{sv}', [{}]);
      else this.error(msg, 'org.freedesktop.DBus.Error.UnknownInterface', `no interface ${String(msg.body[0]).slice(0, 64)} here`);
      return true;
    }
    if ((msg.member === 'Get' && msg.signature === 'ss') || (msg.member === 'Set' && msg.signature === 'ssv')) {
      this.error(msg, 'org.freedesktop.DBus.Error.UnknownProperty', `${INTERFACE} has no properties`);
      return true;
    }
    this.error(msg, 'org.freedesktop.DBus.Error.UnknownMethod', 'org.freedesktop.DBus.Properties has Get(ss), GetAll(s) and Set(ssv)');
    return true;
  }

  private introspect(msg: Msg): boolean {
    if (msg.member !== 'Introspect' || msg.signature) return false;
    if (msg.path === OBJECT_PATH) {
      this.reply(msg, 's', [this.introspection]);
      return true;
    }
    // Ancestors list the next path element, so tools like d-feet and busctl tree can walk down to the object.
    const parent = msg.path === '/' ? '' : msg.path;
    if (OBJECT_PATH.startsWith(`${parent}/`)) {
      const child = OBJECT_PATH.slice(parent.length + 1).split('/')[0]!;
      this.reply(msg, 's', [parentIntrospection(child)]);
      return true;
    }
    return false;
  }

  private reply(msg: Msg, signature: string, body: unknown[]): void {
    if (msg.flags & MessageFlag.NO_REPLY_EXPECTED) return;
    this.send(Message.newMethodReturn(msg, signature, body));
  }

  private error(msg: Msg, name: string, text: string): void {
    if (msg.flags & MessageFlag.NO_REPLY_EXPECTED || !msg.sender) return;
    this.send(
      new Message({
        type: MessageType.ERROR,
        replySerial: msg.serial as unknown as string,
        destination: msg.sender,
        errorName: name,
        signature: 's',
        body: [text],
      }),
    );
  }

  /** Signals go to the caller alone (unicast): other users never learn who is verifying or how it went. */
  private signal(destination: string, member: SignalName, body: unknown[]): void {
    this.send(new Message({ type: MessageType.SIGNAL, path: OBJECT_PATH, interface: INTERFACE, member, signature: SIGNALS[member], body, destination }));
  }

  private send(m: Msg): void {
    try {
      this.bus.send(m);
    } catch (err) {
      // A closed connection: the bus error handler reports it; nothing to answer.
      this.deps.log.warn('dbus send failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function ownerRule(sender: string): string {
  return `type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${sender}'`;
}
