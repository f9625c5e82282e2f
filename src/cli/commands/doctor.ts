import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { pamServiceProblems } from '../../policy/index.js';
import { openCamera } from '../../camera/camera.js';
import { listCameras } from '../../camera/probe.js';
import { loadConfiguredLiveness } from '../../liveness/load.js';
import type { Config } from '../../config/config.js';
import { probeSocket } from '../../daemon/client.js';
import { modelsDir, PACKAGE_ROOT } from '../../paths.js';
import { sha256 } from '../../models/build/fetch.js';
import { TemplateStore } from '../../store/store.js';
import { describeCamera, identityOf, sameCamera, untrustedCamera, type CameraIdentity } from '../../camera/identity.js';
import { uidOfUserName } from '../../daemon/peercred.js';
import { CliError, configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', ia32: 'i386-linux-gnu' };

export function pamModuleDirs(): string[] {
  const ma = MULTIARCH[process.arch];
  return [...(ma ? [`/usr/lib/${ma}/security`, `/lib/${ma}/security`] : []), '/usr/lib/security', '/lib/security'];
}

function checkModels(): Check {
  const dir = modelsDir();
  let manifest: Record<string, { file?: unknown; sha256?: unknown }>;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as typeof manifest;
  } catch {
    return { name: 'models', status: 'fail', detail: `not built in ${dir}: run "npm run build:models"` };
  }
  const bad: string[] = [];
  for (const [id, e] of Object.entries(manifest)) {
    try {
      if (typeof e.file !== 'string' || sha256(fs.readFileSync(path.join(dir, path.basename(e.file)))) !== e.sha256) bad.push(`${id} (digest differs)`);
    } catch {
      bad.push(`${id} (missing)`);
    }
  }
  if (bad.length) return { name: 'models', status: 'fail', detail: `${bad.join(', ')}: rebuild with "npm run build:models"` };
  return {
    name: 'models',
    status: 'ok',
    detail: Object.entries(manifest)
      .map(([id, e]) => `${id} ${String(e.sha256).slice(0, 12)}`)
      .join(', '),
  };
}

/** What to do about a database SQLite cannot read (docs/reliability.md, "Faults"). */
function damagedDbAdvice(file: string): string {
  return `stop facegate (systemctl stop facegate.service), keep the damaged file aside (mv ${file} ${file}.damaged; also its -wal and -shm), restore a backup or re-enrol every user with "facegate enroll USER", then start facegate again; until then facegated answers unavailable and PAM falls back to the password`;
}

function checkDb(cfg: Config, enrolled: { cameras?: Array<{ camera: CameraIdentity | null; faces: number }> }): Check {
  const file = cfg.daemon.db;
  if (!fs.existsSync(file)) return { name: 'database', status: 'warn', detail: `${file} does not exist yet (created by the first enrolment)` };
  const st = fs.statSync(file);
  // facegated runs as the facegate system user, which must own its database (root's CLI keeps it so).
  const owner = file.startsWith('/var/lib/') ? (uidOfUserNameSafe('facegate') ?? 0) : null;
  const dir = fs.statSync(path.dirname(file));
  const problems: string[] = [];
  if ((st.mode & 0o077) !== 0) problems.push(`${file} is mode ${(st.mode & 0o777).toString(8)}, expected 600`);
  if ((dir.mode & 0o077) !== 0 && path.dirname(file) === '/var/lib/facegate')
    problems.push(`${path.dirname(file)} is mode ${(dir.mode & 0o777).toString(8)}, expected 700`);
  if (owner !== null && st.uid !== owner)
    problems.push(
      `${file} is owned by uid ${st.uid}, expected ${owner === 0 ? 'root' : `facegate (uid ${owner})`}: chown -R facegate:facegate ${path.dirname(file)}`,
    );
  if (problems.length) return { name: 'database', status: 'fail', detail: problems.join('; ') };
  let store: TemplateStore;
  try {
    store = TemplateStore.open(file, { readonly: true });
  } catch (err) {
    const msg = (err as Error).message;
    if (/has schema \d+, expected/.test(msg))
      return { name: 'database', status: 'warn', detail: `${file}: ${msg}; facegated (or the next "facegate enroll") migrates it` };
    return { name: 'database', status: 'fail', detail: `${file} cannot be read (${msg}): ${damagedDbAdvice(file)}` };
  }
  try {
    const integrity = store.integrityCheck();
    if (integrity !== 'ok') return { name: 'database', status: 'fail', detail: `${file} is damaged (${integrity.slice(0, 200)}): ${damagedDbAdvice(file)}` };
    const users = store.listUsers();
    enrolled.cameras = store.enrolledCameras();
    return { name: 'database', status: 'ok', detail: `${file}: ${users.length} enrolled user(s)` };
  } catch (err) {
    return { name: 'database', status: 'fail', detail: `${file} cannot be read (${(err as Error).message}): ${damagedDbAdvice(file)}` };
  } finally {
    store.close();
  }
}

function uidOfUserNameSafe(name: string): number | null {
  try {
    return uidOfUserName(name);
  } catch {
    return null;
  }
}

/** Whether the camera in use is the one the faces were enrolled with: the daemon refuses the others. */
function checkCameraIdentity(current: CameraIdentity, enrolled: Array<{ camera: CameraIdentity | null; faces: number }>): Check | null {
  const recorded = enrolled.filter((e): e is { camera: CameraIdentity; faces: number } => e.camera !== null);
  if (recorded.length === 0) return null;
  const other = recorded.filter((e) => !sameCamera(e.camera, current));
  if (other.length === 0) return { name: 'camera identity', status: 'ok', detail: `faces were enrolled with this camera, ${describeCamera(current)}` };
  const faces = other.reduce((n, e) => n + e.faces, 0);
  return {
    name: 'camera identity',
    status: 'warn',
    detail: `${faces} face(s) were enrolled with ${other.map((e) => describeCamera(e.camera)).join(', ')}, not the camera now in use ${describeCamera(current)}: facegated refuses them; reconnect that camera or re-enrol`,
  };
}

async function checkCamera(cfg: Config, enrolled: Array<{ camera: CameraIdentity | null; faces: number }>): Promise<{ checks: Check[]; pixelFormat?: string }> {
  try {
    const cam = await openCamera(cfg.camera.device);
    const info = cam.info;
    await cam.close();
    const refused = untrustedCamera(info, cfg.camera);
    if (refused) return { checks: [{ name: 'camera', status: 'fail', detail: `${cfg.camera.device}: ${refused}` }] };
    const identity = checkCameraIdentity(identityOf(info), enrolled);
    return {
      checks: [
        { name: 'camera', status: 'ok', detail: `${cfg.camera.device}: ${info.card ?? info.backend} ${info.pixelFormat} ${info.width}x${info.height}` },
        ...(identity ? [identity] : []),
      ],
      pixelFormat: info.pixelFormat,
    };
  } catch (err) {
    return { checks: [{ name: 'camera', status: 'fail', detail: `${cfg.camera.device}: ${(err as Error).message}` }] };
  }
}

/** IR cameras elsewhere on this machine, to point an RGB-only set-up at the stronger tier. */
function otherIrCameras(current: string): string[] {
  try {
    return listCameras()
      .cameras.filter((c) => c.likelyIr && `v4l2:${c.device}` !== current)
      .map((c) => c.byId ?? c.device);
  } catch {
    return [];
  }
}

/** Liveness: on, its calibration and PAD model loadable, and which tier the camera gives (docs/liveness.md). */
async function checkLiveness(cfg: Config, pixelFormat: string | undefined): Promise<Check[]> {
  if (!cfg.liveness.enabled) {
    return [{ name: 'liveness', status: 'warn', detail: 'liveness.enabled = false: a printed photo of an enrolled user unlocks' }];
  }
  const out: Check[] = [];
  try {
    const l = await loadConfiguredLiveness(cfg.liveness, 1);
    await l?.close();
    out.push({
      name: 'liveness',
      status: 'ok',
      detail: `on: ${cfg.liveness.cues.join(', ')}, attention (eyes open)${cfg.liveness.ir_gate ? ', IR gate on grey frames' : ''}`,
    });
  } catch (err) {
    out.push({ name: 'liveness', status: 'fail', detail: (err as Error).message });
  }
  if (pixelFormat === 'file') {
    out.push({ name: 'liveness tier', status: 'ok', detail: 'replay camera: grey frames get the IR gate, colour frames the RGB cues only' });
  } else if (pixelFormat === 'GREY') {
    out.push({ name: 'liveness tier', status: 'ok', detail: 'grey (IR) camera: the IR gate applies (unmeasured on real IR attacks, see docs/liveness.md)' });
  } else if (pixelFormat !== undefined) {
    const ir = otherIrCameras(cfg.camera.device);
    out.push({
      name: 'liveness tier',
      status: 'warn',
      detail: `${pixelFormat} is an RGB camera, the weaker tier: liveness rests on the RGB cues (measured against printed photos only; screen replays and masks unmeasured)${ir.length > 0 ? `; this machine also has a likely IR camera: ${ir.join(', ')}` : ''}`,
    });
  }
  return out;
}

function checkPam(cfg: Config | undefined): Check {
  const found = pamModuleDirs()
    .map((d) => path.join(d, 'pam_facegate.so'))
    .find((f) => fs.existsSync(f));
  if (!found) return { name: 'pam module', status: 'fail', detail: `pam_facegate.so not in ${pamModuleDirs().join(', ')}: run scripts/install.sh` };
  let users: string[] = [];
  const problems: string[] = [];
  try {
    users = fs.readdirSync('/etc/pam.d').filter((f) => {
      try {
        const text = fs.readFileSync(path.join('/etc/pam.d', f), 'utf8');
        if (!/^\s*auth\s+.*pam_facegate\.so/m.test(text)) return false;
        if (cfg) problems.push(...pamServiceProblems(f, text, cfg));
        return true;
      } catch {
        return false;
      }
    });
  } catch {
    // no /etc/pam.d
  }
  if (users.length && problems.length) return { name: 'pam module', status: 'warn', detail: `${found}; used by ${users.join(', ')}; ${problems.join('; ')}` };
  return users.length
    ? { name: 'pam module', status: 'ok', detail: `${found}; used by ${users.join(', ')}` }
    : {
        name: 'pam module',
        status: 'warn',
        // The Debian package registers a pam-auth-update profile; elsewhere the line is added by hand.
        detail: fs.existsSync('/usr/share/pam-configs/facegate')
          ? `${found} installed but not enabled: sudo pam-auth-update --enable facegate (see README)`
          : `${found} installed but no /etc/pam.d service uses it yet (see README)`,
      };
}

async function checkService(cfg: Config): Promise<Check> {
  if (fs.existsSync('/run/systemd/system')) {
    const r = spawnSync('systemctl', ['is-active', 'facegate.service', 'facegate.socket'], { encoding: 'utf8', timeout: 3000 });
    const [svc, sock] = (r.stdout ?? '').trim().split('\n');
    if (svc === 'active' || sock === 'active') return { name: 'service', status: 'ok', detail: `facegate.service ${svc}, facegate.socket ${sock}` };
    return {
      name: 'service',
      status: 'fail',
      detail: `facegate.service ${svc ?? '?'}, facegate.socket ${sock ?? '?'}: systemctl enable --now facegate.socket facegate.service`,
    };
  }
  const up = await probeSocket(cfg.daemon.socket);
  return up
    ? { name: 'service', status: 'ok', detail: `facegated accepting on ${cfg.daemon.socket}` }
    : { name: 'service', status: 'fail', detail: `nothing accepting on ${cfg.daemon.socket} (no systemd here)` };
}

function checkNative(): Check {
  const f = path.join(PACKAGE_ROOT, 'native', 'peercred', 'build', 'Release', 'peercred.node');
  return fs.existsSync(f)
    ? { name: 'native addons', status: 'ok', detail: 'peercred built' }
    : { name: 'native addons', status: 'fail', detail: `${f} missing: npm run build:native` };
}

/** facegate doctor: every check that explains why face login would not work, with the fix. */
export function registerDoctor(program: Command): void {
  withCommonOptions(
    program
      .command('doctor')
      .description('check config, models, database, camera, PAM module and service')
      .option('--camera <spec>', 'camera to check (overrides camera.device)'),
  ).action((opts: CommonOptions & { camera?: string }) =>
    run(opts, async () => {
      const checks: Check[] = [];
      let cfg: Config | undefined;
      try {
        cfg = configFrom(opts);
        checks.push({ name: 'config', status: 'ok', detail: opts.config ?? process.env.FACEGATE_CONFIG ?? '/etc/facegate/config.toml (or defaults)' });
      } catch (err) {
        checks.push({ name: 'config', status: 'fail', detail: err instanceof CliError ? err.message : String(err) });
      }
      checks.push(checkModels(), checkNative());
      const enrolled: { cameras?: Array<{ camera: CameraIdentity | null; faces: number }> } = {};
      if (cfg) {
        checks.push(checkDb(cfg, enrolled));
        const cam = await checkCamera(cfg, enrolled.cameras ?? []);
        checks.push(...cam.checks, ...(await checkLiveness(cfg, cam.pixelFormat)));
      }
      checks.push(checkPam(cfg));
      if (cfg) checks.push(await checkService(cfg));
      const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };
      for (const c of checks) say(opts, `${mark[c.status]}  ${c.name.padEnd(14)} ${c.detail}`);
      const failed = checks.filter((c) => c.status === 'fail').length;
      say(opts, failed ? `${failed} check(s) failed.` : 'All checks passed.');
      // A bad config is a usage error (exit 2, as for every command), even though the other checks still ran.
      const code = cfg === undefined ? EXIT.USAGE : failed ? EXIT.FAIL : EXIT.OK;
      return { json: { ok: failed === 0, checks }, code };
    }),
  );
}
