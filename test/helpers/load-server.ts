// The daemon side of the load test (load-harness.ts), in a process of its own as facegated is: the real
// FacegateServer with real SO_PEERCRED, a replay camera showing identity 100 and the stand-in engine. Usage:
// load-server.js DIR FIRST_UID UIDS VERIFY_TIMEOUT_S. Prints "listening SOCKET"; on SIGTERM prints one JSON line
// (refused connections, the largest event-loop stall, answers by result) and exits.
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { defaultConfig } from '../../src/config/config.js';
import { CameraManager } from '../../src/auth/camera-manager.js';
import { createLogger } from '../../src/daemon/log.js';
import { FacegateServer } from '../../src/daemon/server.js';
import { lookupFromSync } from '../../src/daemon/user-directory.js';
import { TemplateStore } from '../../src/store/store.js';
import { FakeEngine, MODEL, fakeEmbedding, pgm } from './fake-engine.js';
import { FakeLiveness } from './fake-liveness.js';

async function main(): Promise<void> {
  const [dir, first, count, timeout] = process.argv.slice(2);
  const firstUid = Number(first);
  const uids = Number(count);
  const cam = path.join(dir!, 'cam');
  fs.mkdirSync(cam, { recursive: true });
  // The crowd's templates (200) never match this camera (100), so every crowd verification runs to its deadline and
  // the camera is always contended; root's template (100) matches at its first frame.
  fs.writeFileSync(path.join(cam, '000.pgm'), pgm(100));
  const config = defaultConfig();
  config.verify.timeout = Number(timeout);
  config.camera.idle_close = 2;
  // The PAM harness's service (test/faults.test.ts); sudo, the load clients' service, is on by default.
  config.services.enabled['facegate-test'] = true;
  const names = new Map<number, string>([[0, 'root']]);
  for (let i = 0; i < uids; i++) names.set(firstUid + i, `fgload${firstUid + i}`);
  const uidOf = new Map([...names].map(([u, n]) => [n, u]));
  const store = TemplateStore.open(path.join(dir!, 'f.db'));
  for (const [uid, name] of names) store.addFace(name, 'default', [{ ...MODEL, vector: fakeEmbedding(uid === 0 ? 100 : 200) }], { uid });
  // The daemon's own view: how long after accepting each connection it answered (the `ms` of its answer lines).
  let answerMsMax = 0;
  let answers = 0;
  const messages: Record<string, number> = {};
  const log = createLogger((line) => {
    const msg = /msg=("[^"]*"|\S+)/.exec(line)?.[1] ?? '?';
    messages[msg] = (messages[msg] ?? 0) + 1;
    const m = /msg=answer .* ms=(\d+)/.exec(line);
    if (!m) return;
    answers++;
    answerMsMax = Math.max(answerMsMax, Number(m[1]));
  });
  const camera = new CameraManager(`replay:${cam}?fps=30`, config.camera.idle_close * 1000, log);
  const server = new FacegateServer({
    config,
    store,
    engine: new FakeEngine(),
    liveness: new FakeLiveness(),
    camera,
    log,
    // The load uids have no passwd entries; the names are this test's own (SO_PEERCRED stays real).
    users: lookupFromSync(
      (uid) => names.get(uid) ?? null,
      (name) => uidOf.get(name) ?? null,
    ),
    sessionOf: () => 'local',
  });
  const sock = path.join(dir!, 'facegate.sock');
  await server.listenPath(sock);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  process.stdout.write(`listening ${sock}\n`);
  process.once('SIGTERM', () => {
    lag.disable();
    process.stdout.write(
      `${JSON.stringify({ messages, answers, answer_ms_max: answerMsMax, cpu_ms: Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000), refused_connections: server.refusedConnections, event_loop_delay_ms_max: Math.round(lag.max / 1e6), counts: server.counts })}\n`,
    );
    void server.close().then(async () => {
      await camera.shutdown();
      store.close();
      process.exit(0);
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
