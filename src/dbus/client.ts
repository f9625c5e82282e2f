import dbus from 'dbus-next';
import { BUS_NAME, INTERFACE, OBJECT_PATH } from './api.js';

const { Message, MessageType } = dbus;
type Msg = InstanceType<typeof Message>;

/** Calls a method of facegate's object and resolves with the reply (rejects with dbus.DBusError on an error reply). */
export async function callFacegate(bus: dbus.MessageBus, member: string, signature = '', body: unknown[] = []): Promise<Msg | null> {
  return bus.call(new Message({ destination: BUS_NAME, path: OBJECT_PATH, interface: INTERFACE, member, signature, body }));
}

export interface DbusVerifyOutcome {
  /** VerifyStatus signals in order: [event, done]. */
  statuses: Array<[string, boolean]>;
  answer: string;
  reason: string;
}

/**
 * One verification over D-Bus, the way a lock screen would do it: signals are only trusted when they come from
 * the current owner of org.facegate.Daemon (any peer can send a signal to anyone on the bus).
 */
export async function verifyOverDbus(bus: dbus.MessageBus, user: string, timeoutMs: number): Promise<DbusVerifyOutcome> {
  const ownerReply = await bus.call(
    new Message({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'GetNameOwner',
      signature: 's',
      body: [BUS_NAME],
    }),
  );
  const owner: unknown = ownerReply?.body[0];
  if (typeof owner !== 'string') throw new Error(`${BUS_NAME} has no owner`);
  const statuses: Array<[string, boolean]> = [];
  let listener: ((m: Msg) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const result = new Promise<DbusVerifyOutcome>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no VerifyResult within ${timeoutMs} ms`)), timeoutMs);
    listener = (m: Msg): void => {
      if (m.type !== MessageType.SIGNAL || m.sender !== owner || m.path !== OBJECT_PATH || m.interface !== INTERFACE) return;
      if (m.member === 'VerifyStatus' && m.signature === 'sb') statuses.push([String(m.body[0]), m.body[1] === true]);
      if (m.member === 'VerifyResult' && m.signature === 'ss') resolve({ statuses, answer: String(m.body[0]), reason: String(m.body[1]) });
    };
    bus.on('message', listener);
  });
  try {
    await callFacegate(bus, 'Verify', 's', [user]);
    return await result;
  } finally {
    clearTimeout(timer);
    if (listener) bus.off('message', listener);
    result.catch(() => {});
  }
}
