import fs from 'node:fs';
import path from 'node:path';
import dbus from 'dbus-next';
import { PACKAGE_ROOT } from '../paths.js';
import { BUS_NAME } from './api.js';
import { FacegateDbusService, type DbusServiceDeps } from './service.js';

export const BUS_KINDS = ['system', 'session', 'none'] as const;
export type BusKind = (typeof BUS_KINDS)[number];

/** facegated's `--dbus` value, or an error naming the accepted ones. */
export function parseBusKind(value: string): BusKind {
  if ((BUS_KINDS as readonly string[]).includes(value)) return value as BusKind;
  throw new Error(`--dbus must be one of ${BUS_KINDS.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`);
}

/** How long connecting and owning the name may take before facegated gives up on D-Bus. */
const CONNECT_TIMEOUT_MS = 5000;

export interface DbusHandle {
  service: FacegateDbusService;
  bus: dbus.MessageBus;
  /** Stops verifications, releases the name and disconnects. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Bus address for `session` (default: DBUS_SESSION_BUS_ADDRESS); `system` uses DBUS_SYSTEM_BUS_ADDRESS or the standard socket. */
  busAddress?: string;
  version?: string;
}

/** The package version GetStatus reports. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Connects to the bus, exports the facegate object and owns org.facegate.Daemon. Rejects (and leaves nothing
 * behind) if the bus is unreachable, the name is taken, or the bus policy does not let us own it.
 */
export async function startDbusService(
  kind: Exclude<BusKind, 'none'>,
  deps: Omit<DbusServiceDeps, 'version'> & { version?: string },
  opts: StartOptions = {},
): Promise<DbusHandle> {
  const { log } = deps;
  let bus: dbus.MessageBus;
  try {
    bus = kind === 'system' ? dbus.systemBus() : dbus.sessionBus(opts.busAddress ? { busAddress: opts.busAddress } : {});
  } catch (err) {
    // A malformed bus address throws before any I/O.
    throw new Error(`D-Bus (${kind}): ${err instanceof Error ? err.message : String(err)}`);
  }
  let up = false;
  // dbus-next reports a lost connection as 'error'; unhandled it would kill the daemon and the PAM socket with it.
  bus.on('error', (err: unknown) => {
    log.error(up ? 'dbus connection lost' : 'dbus connection failed', { bus: kind, error: err instanceof Error ? err.message : String(err) });
  });
  const service = new FacegateDbusService(bus, { ...deps, version: deps.version ?? opts.version ?? packageVersion() });
  const disconnect = (): void => {
    try {
      bus.disconnect();
    } catch {
      // already closed
    }
  };
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        bus.once('connect', () => resolve());
        bus.once('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
      }),
      `cannot connect to the ${kind} bus`,
    );
    service.attach();
    const reply = await withTimeout(bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE), `cannot own ${BUS_NAME}`);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new Error(`${BUS_NAME} is already owned on the ${kind} bus (another facegated?)`);
    }
  } catch (err) {
    await service.close();
    disconnect();
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`D-Bus (${kind}): ${msg}`);
  }
  up = true;
  log.info('dbus ready', { bus: kind, name: BUS_NAME });
  return {
    service,
    bus,
    async close() {
      await service.close();
      try {
        await withTimeout(bus.releaseName(BUS_NAME), 'release');
      } catch {
        // The name goes with the connection anyway.
      }
      disconnect();
    },
  };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
