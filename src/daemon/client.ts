import net from 'node:net';
import { FrameReader, ProtocolError, encodeRequest, type Answer, type EventCode, type Request } from '../protocol/index.js';

export interface AskOptions {
  onEvent?: (e: EventCode) => void;
  /** Give up after this long (default: the request's deadline + 500 ms, like the PAM module). */
  timeoutMs?: number;
}

export class ClientError extends Error {
  constructor(
    readonly code: 'connect' | 'timeout' | 'protocol' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

/** Sends one request to facegated and resolves with its answer (the TypeScript twin of the PAM module). */
export function askDaemon(socketPath: string, req: Omit<Request, 'type'>, opts: AskOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const sock = net.connect(socketPath);
    let settled = false;
    let connected = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const timer = setTimeout(() => settle(() => reject(new ClientError('timeout', 'no answer before the deadline'))), opts.timeoutMs ?? req.deadlineMs + 500);
    sock.on('connect', () => {
      connected = true;
      sock.write(encodeRequest(req));
    });
    sock.on('error', (err) => settle(() => reject(new ClientError(connected ? 'closed' : 'connect', err.message))));
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const m of reader.push(chunk)) {
          if (m.type === 'event') opts.onEvent?.(m.event);
          else if (m.type === 'answer') return settle(() => resolve(m));
          else throw new ProtocolError('unexpected-type', m.type);
        }
      } catch (err) {
        settle(() => reject(new ClientError('protocol', (err as Error).message)));
      }
    });
    sock.on('close', () => settle(() => reject(new ClientError('closed', 'connection closed without an answer'))));
  });
}

/** Whether something accepts connections on the socket (a live daemon, or systemd holding it for one). */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
