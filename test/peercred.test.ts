import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { peerCredOf, peerCredOfFd, userNameOfUid, type PeerCred } from '../src/daemon/peercred.js';

async function credOfNextClient(connect: (sock: string) => void): Promise<PeerCred> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-peercred-'));
  fs.chmodSync(dir, 0o755);
  const sock = path.join(dir, 's');
  const server = net.createServer();
  try {
    const got = new Promise<PeerCred>((resolve, reject) => {
      server.once('connection', (c) => {
        try {
          resolve(peerCredOf(c));
        } catch (err) {
          reject(err as Error);
        } finally {
          c.destroy();
        }
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    fs.chmodSync(sock, 0o666);
    connect(sock);
    return await got;
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('returns the uid, gid and pid of a local peer', async () => {
  const cred = await credOfNextClient((sock) => {
    const c = net.connect(sock);
    c.on('error', () => {});
  });
  assert.deepEqual(cred, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
});

test('sees the real uid of a peer in another process running as nobody', {
  skip: process.getuid?.() !== 0 && 'needs root to run a client as nobody',
}, async () => {
  let child: ReturnType<typeof spawn> | undefined;
  const cred = await credOfNextClient((sock) => {
    child = spawn(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        process.execPath,
        '-e',
        `require('net').connect(${JSON.stringify(sock)}).on('error',()=>{}).on('close',()=>process.exit(0))`,
      ],
      { stdio: 'ignore' },
    );
  });
  child?.kill();
  assert.equal(cred.uid, 65534);
  assert.equal(cred.gid, 65534);
  assert.notEqual(cred.pid, process.pid);
});

test('rejects bad fds instead of crashing', () => {
  assert.throws(() => peerCredOfFd(-1), /non-negative/);
  assert.throws(() => peerCredOfFd(1e9), /EBADF|Bad file/);
  const fd = fs.openSync(process.execPath, 'r');
  try {
    assert.throws(() => peerCredOfFd(fd), /socket/i);
  } finally {
    fs.closeSync(fd);
  }
});

test('resolves uids to login names through NSS', () => {
  assert.equal(userNameOfUid(0), 'root');
  assert.equal(userNameOfUid(process.getuid!()), os.userInfo().username);
  assert.equal(userNameOfUid(4_000_000_000), null);
  assert.throws(() => userNameOfUid(-1), /bad uid/);
});
