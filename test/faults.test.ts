// Faults (issue 7), each provoked for real: the enrolling process killed with SIGKILL mid-write, a damaged or
// unreadable database, the camera failing mid-attempt, and the daemon killed and restarted during a PAM call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeLiveness } from './helpers/fake-liveness.js';
import { CameraManager } from '../src/auth/camera-manager.js';
import { openCamera, type Camera, type Frame } from '../src/camera/camera.js';
import { defaultConfig } from '../src/config/config.js';
import { askDaemon } from '../src/daemon/client.js';
import { createLogger } from '../src/daemon/log.js';
import { FacegateServer } from '../src/daemon/server.js';
import { lookupFromSync } from '../src/daemon/user-directory.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { TemplateStore } from '../src/store/store.js';
import { DAEMON_JS, e2eSkipReason, replayConfigToml } from './helpers/daemon-harness.js';
import { DIM, TEMPLATES } from './helpers/enrol-loop.js';
import { FakeEngine, MODEL, fakeEmbedding, pgm } from './helpers/fake-engine.js';
import { pamSkipReason, runPam } from './helpers/pam-harness.js';

const DIST = path.join(PACKAGE_ROOT, 'dist', 'test', 'helpers');
const CLI_JS = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const REQ = { service: 'sudo', tty: '/dev/pts/1', rhost: '' };

function tmp(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

test('SIGKILL during enrolment: no half-written face, every earlier face intact', { timeout: 60_000 }, async () => {
  const dir = tmp('fg-fault-kill-');
  try {
    const db = path.join(dir, 'f.db');
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [path.join(DIST, 'enrol-loop.js'), db], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      // Killed while it is writing: after a few faces, at a moment that differs from round to round.
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if ((out.match(/stored/g) ?? []).length >= 3 + round) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
    }
    const store = TemplateStore.open(db);
    try {
      const faces = store.listFaces('alice');
      assert.ok(faces.length >= 3 + 4 + 5, `every reported face survives (${faces.length})`);
      const all = store.templatesFor('alice', [{ id: 'm', sha256: 'a'.repeat(64) }], { uid: 1000 }).byModel.get('m')!;
      assert.equal(all.length, faces.length * TEMPLATES, 'each face has all its templates or does not exist');
      // Every template is whole and belongs to a face with its index (faces of each round restart at 0).
      const counts = new Map<number, number>();
      for (const v of all) {
        assert.equal(v.length, DIM);
        assert.ok(
          v.every((x) => x === v[0]),
          'no torn vector',
        );
        counts.set(v[0]!, (counts.get(v[0]!) ?? 0) + 1);
      }
      for (const [, n] of counts) assert.equal(n % TEMPLATES, 0);
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no database (unreadable or damaged at start): every request is unavailable at once, the camera never opens', async () => {
  const dir = tmp('fg-fault-db-');
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(200));
  const camera = new CameraManager(
    `replay:${cam}`,
    0,
    createLogger(() => {}),
  );
  const logs: string[] = [];
  const server = new FacegateServer({
    config: defaultConfig(),
    store: null,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log: createLogger((l) => logs.push(l)),
    users: lookupFromSync(
      () => null,
      () => 0,
    ),
    sessionOf: () => 'local',
  });
  const sock = path.join(dir, 's.sock');
  await server.listenPath(sock);
  try {
    const a = await askDaemon(sock, { ...REQ, user: 'root', deadlineMs: 4000 });
    assert.deepEqual([a.result, a.reason], ['unavailable', 'internal-error']);
    assert.equal(camera.opens, 0);
    assert.match(logs.join('\n'), /template database unavailable \(facegate doctor\)/);
  } finally {
    await server.close();
    await camera.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_JS, ...args], { env: { ...process.env, FACEGATE_CONFIG: '' } }, (err, stdout) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout }),
    );
  });
}

test('facegate doctor on a damaged database says what to do', async () => {
  const dir = tmp('fg-fault-doctor-');
  try {
    const db = path.join(dir, 'f.db');
    const store = TemplateStore.open(db);
    store.addFace('alice', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: 1000 });
    store.close();
    // Keep SQLite's header, overwrite the rest: a disk error or a bad copy.
    const bytes = fs.readFileSync(db);
    for (let i = 100; i < bytes.length; i++) bytes[i] = (i * 7919) & 255;
    fs.writeFileSync(db, bytes);
    fs.rmSync(`${db}-wal`, { force: true });
    fs.rmSync(`${db}-shm`, { force: true });
    const cfg = path.join(dir, 'c.toml');
    fs.writeFileSync(cfg, '');
    const r = await cli(['doctor', '--config', cfg, '--db', db, '--json']);
    const check = (JSON.parse(r.stdout).checks as Array<{ name: string; status: string; detail: string }>).find((c) => c.name === 'database')!;
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /mv .*f\.db .*f\.db\.damaged/);
    assert.match(check.detail, /facegate enroll USER/);
    assert.equal(r.code, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('facegated with a damaged database starts and answers unavailable at once', { skip: e2eSkipReason() ?? false, timeout: 180_000 }, async () => {
  const dir = tmp('fg-fault-daemon-');
  const db = path.join(dir, 'f.db');
  fs.writeFileSync(db, Buffer.alloc(8192, 0x5a), { mode: 0o600 }); // not a database at all
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(200));
  const cfg = path.join(dir, 'c.toml');
  fs.writeFileSync(cfg, replayConfigToml());
  const sock = path.join(dir, 's.sock');
  const proc = spawn(process.execPath, [DAEMON_JS, '--config', cfg, '--db', db, '--socket', sock, '--camera', `replay:${cam}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/msg=ready/.test(out)) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`facegated exited ${code}: ${out}`)));
    });
    assert.match(out, /msg="template database unavailable".*fix="run \\"facegate doctor\\""/);
    const a = await askDaemon(sock, { ...REQ, user: 'root', deadlineMs: 4000 });
    assert.deepEqual([a.result, a.reason], ['unavailable', 'internal-error']);
    assert.doesNotMatch(out, /msg="camera open"/);
  } finally {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the camera failing mid-attempt: camera-error for that request, the next one is served', async () => {
  const dir = tmp('fg-fault-cam-');
  const cam = path.join(dir, 'cam');
  fs.mkdirSync(cam);
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(cam, `00${i}.pgm`), pgm(100));
  let opens = 0;
  // The first camera delivers frames, then its device node disappears (ENODEV, as an unplugged USB camera gives).
  const opener = async (spec: string): Promise<Camera> => {
    opens++;
    const real = await openCamera(spec);
    if (opens > 1) return real;
    return {
      info: real.info,
      async *frames(): AsyncGenerator<Frame> {
        let n = 0;
        for await (const f of real.frames()) {
          if (++n > 3) {
            const { CameraError } = await import('../src/camera/camera.js');
            throw new CameraError('IO', 'v4l2: /dev/video0: waiting for a frame: No such device (ENODEV)');
          }
          yield f;
        }
      },
      close: () => real.close(),
    };
  };
  const store = TemplateStore.open(path.join(dir, 'f.db'));
  store.addFace('root', 'default', [{ ...MODEL, vector: fakeEmbedding(200) }], { uid: 0 });
  const logs: string[] = [];
  const log = createLogger((l) => logs.push(l));
  const camera = new CameraManager(`replay:${cam}?fps=30`, 0, log, opener);
  const server = new FacegateServer({
    config: defaultConfig(),
    store,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log,
    users: lookupFromSync(
      () => null,
      () => 0,
    ),
    sessionOf: () => 'local',
  });
  const sock = path.join(dir, 's.sock');
  await server.listenPath(sock);
  try {
    const first = await askDaemon(sock, { ...REQ, user: 'root', deadlineMs: 3000 });
    assert.deepEqual([first.result, first.reason], ['unavailable', 'camera-error']);
    assert.match(logs.join('\n'), /msg="camera error".*ENODEV/);
    const second = await askDaemon(sock, { ...REQ, user: 'root', deadlineMs: 600 });
    assert.deepEqual([second.result, second.reason], ['deny', 'no-match'], 'a new camera was opened and used');
    assert.equal(opens, 2);
  } finally {
    await server.close();
    await camera.shutdown();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function startLoadServer(dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(DIST, 'load-server.js'), dir, '61000', '1', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^listening /m.test(out)) resolve(p);
    });
    p.once('exit', (code) => reject(new Error(`load server exited ${code}`)));
  });
}

test('the daemon killed and restarted during a PAM call: the module returns at once, then the new daemon serves', {
  skip: pamSkipReason() ?? (process.getuid?.() !== 0 && 'needs root (PAM runs as root asking for root)'),
  timeout: 60_000,
}, async () => {
  const dir = tmp('fg-fault-restart-');
  let daemon = await startLoadServer(dir);
  try {
    const sock = path.join(dir, 'facegate.sock');
    // fgload61000's face never matches the camera, so this call would verify until its 10 s timeout.
    const call = runPam({ args: [`socket=${sock}`, 'timeout=10'], user: 'fgload61000' });
    await new Promise((r) => setTimeout(r, 700));
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('exit', r));
    const r = await call;
    assert.equal(r.code, 'PAM_AUTHINFO_UNAVAIL', r.line);
    assert.ok(r.elapsedMs < 10_000, `returned before its timeout (${Math.round(r.elapsedMs)} ms)`);
    daemon = await startLoadServer(dir); // systemd's Restart=on-failure; the stale socket file is replaced
    const again = await runPam({ args: [`socket=${sock}`, 'timeout=4'], user: 'root' });
    assert.equal(again.code, 'PAM_SUCCESS', again.line);
  } finally {
    daemon.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
