// One client process of the load test (test/helpers/load-harness.ts), run under its own uid so facegated sees a
// real SO_PEERCRED. Usage: load-client.js SOCKET requests USER COUNT DEADLINE_MS | SOCKET garbage COUNT HOLD_MS.
// Prints "ready" when started, sends nothing until it reads "go" on stdin, prints "connected" once every connection is up, then one JSON line with what happened, and exits.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { askDaemon, ClientError } from '../../src/daemon/client.js';
import { LATE_WAIT_MS, PAM_GRACE_MS, type GarbageOutcome, type RequestOutcome } from './load-outcomes.js';

async function requests(sock: string, user: string, count: number, deadlineMs: number): Promise<RequestOutcome[]> {
  const out: Promise<RequestOutcome>[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    out.push(
      // Waits well past the PAM module's timeout, so an answer that arrives late is told apart from none at all
      // (on a starved machine this process's own timer can fire after the answer is already in its socket).
      askDaemon(
        sock,
        { user, service: 'sudo', tty: '/dev/pts/9', rhost: '', deadlineMs },
        {
          timeoutMs: deadlineMs + LATE_WAIT_MS,
          onEvent: () => {},
        },
      ).then(
        (a) => {
          const ms = performance.now() - t0;
          return { outcome: ms <= deadlineMs + PAM_GRACE_MS ? `${a.result}/${a.reason}` : 'late', ms };
        },
        (err: unknown) => ({ outcome: err instanceof ClientError ? err.code : 'error', ms: performance.now() - t0 }),
      ),
    );
  }
  // askDaemon connects at once; a short wait lets the connections reach the daemon before "connected".
  await new Promise((r) => setTimeout(r, 100));
  process.stdout.write('connected\n');
  return Promise.all(out);
}

async function garbage(sock: string, count: number, holdMs: number): Promise<GarbageOutcome> {
  const res: GarbageOutcome = { closedByServer: 0, stillOpen: 0, closeMs: [] };
  const conns: net.Socket[] = [];
  const closed: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const c = net.connect(sock, () => {
      // The start of a frame header promising 256 bytes, then junk, and never the rest: a half-open request.
      c.write(Buffer.concat([Buffer.from('FGT\x01\x00\x00\x01\x00', 'latin1'), Buffer.from('garbage!')]));
    });
    c.on('error', () => {});
    c.on('data', () => {});
    closed.push(
      new Promise<void>((r) =>
        c.on('close', () => {
          res.closedByServer++;
          res.closeMs.push(performance.now() - t0);
          r();
        }),
      ),
    );
    conns.push(c);
  }
  await new Promise((r) => setTimeout(r, 100));
  process.stdout.write('connected\n');
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, holdMs))]);
  res.stillOpen = count - res.closedByServer;
  for (const c of conns) c.destroy();
  return res;
}

/** Resolves when the harness writes "go": every client process is started and warm before any request is sent. */
function go(): Promise<void> {
  process.stdout.write('ready\n');
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('go\n')) {
        process.stdin.pause();
        resolve();
      }
    });
  });
}

async function main(): Promise<void> {
  const [sock, mode, ...rest] = process.argv.slice(2);
  await go();
  if (!sock) throw new Error('usage: load-client.js SOCKET requests USER COUNT DEADLINE_MS | SOCKET garbage COUNT HOLD_MS');
  let result: unknown;
  if (mode === 'requests') result = await requests(sock, rest[0]!, Number(rest[1]), Number(rest[2]));
  else if (mode === 'garbage') result = await garbage(sock, Number(rest[0]), Number(rest[1]));
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
