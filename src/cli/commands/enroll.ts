import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { CameraManager } from '../../auth/camera-manager.js';
import { collectEnrollment, type EnrollProgress } from '../../auth/enroll.js';
import { createLogger } from '../../daemon/log.js';
import { uidOfUserName } from '../../daemon/peercred.js';
import { identityOf, untrustedCamera } from '../../camera/identity.js';
import { checkLabel, TemplateStore } from '../../store/store.js';
import { checkArgs, CliError, configFrom, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';
import { loadEngine, positiveInt } from '../engine-loader.js';

interface EnrollOptions extends CommonOptions {
  label?: string;
  camera?: string;
  frames?: string;
}

function progressLine(user: string, p: EnrollProgress): string {
  const hint: Record<string, string> = {
    dark: 'too dark',
    'no-face': 'no face in view',
    'multiple-faces': 'more than one face in view',
    'too-far': 'move closer',
    'too-dark': 'face too dark',
    'too-bright': 'face too bright',
    blurry: 'hold still',
    pose: 'look at the camera',
  };
  return `Enrolling ${user}: ${p.good}/${p.wanted} good frames${p.skipped ? ` (${hint[p.skipped] ?? p.skipped})` : ''}`;
}

/** facegate enroll USER: collects good frames from the camera and stores them as a new face. */
export function registerEnroll(program: Command): void {
  withCommonOptions(
    program
      .command('enroll <user>')
      .description('enrol a face for USER from the camera (quality gated: one face, size, sharpness, brightness)')
      .option('--label <label>', 'name of this face, e.g. "glasses"', 'default')
      .option('--camera <spec>', 'camera: v4l2:/dev/videoN or replay:DIR (overrides camera.device)')
      .option('--frames <n>', 'good frames to collect (overrides enroll.frames)'),
    { socket: false },
  ).action((user: string, opts: EnrollOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      checkArgs(user, () => checkLabel(opts.label ?? 'default'));
      const wanted = opts.frames !== undefined ? positiveInt('--frames', opts.frames, 100) : cfg.enroll.frames;
      // Faces are bound to the account's uid, so a later account re-using the name does not inherit them.
      const uid = uidOfUserName(user);
      if (uid === null) throw new CliError(`no such user: ${user} (faces are enrolled for existing accounts only)`);
      // Open the store first: a permission problem should not cost a camera session.
      const store = TemplateStore.open(cfg.daemon.db);
      const engine = await loadEngine(cfg);
      const camera = new CameraManager(
        cfg.camera.device,
        0,
        createLogger(() => {}),
        undefined,
        (info) => untrustedCamera(info, cfg.camera),
      );
      const tty = !opts.json && process.stderr.isTTY;
      try {
        say(opts, `Look at the camera (${cfg.camera.device}); turn your head slightly between frames.`);
        const deadline = performance.now() + cfg.enroll.timeout * 1000;
        let lease;
        try {
          lease = await camera.acquire(deadline);
        } catch (err) {
          throw new CliError(`camera: ${(err as Error).message}`);
        }
        const cameraId = identityOf(lease.info);
        let res;
        try {
          res = await collectEnrollment({
            nextFrame: (dl) => lease.nextFrame(dl),
            engine,
            limits: { ...cfg.verify, dark_threshold: cfg.camera.dark_threshold },
            frames: wanted,
            deadline,
            onProgress: (p) => {
              if (tty) process.stderr.write(`\r\x1b[K${progressLine(user, p)}`);
            },
          });
        } finally {
          lease.release();
          if (tty) process.stderr.write('\n');
        }
        const summary = { user, label: opts.label ?? 'default', frames_wanted: wanted, frames_good: res.good, frames_seen: res.seen, skipped: res.skipped };
        if (res.good < wanted) {
          const reasons = Object.entries(res.skipped)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ');
          throw new CliError(`only ${res.good} of ${wanted} good frames in ${cfg.enroll.timeout} s (${reasons || 'no frames'}); nothing stored`);
        }
        const face = store.addFace(user, opts.label ?? 'default', res.templates, { uid, camera: cameraId });
        say(opts, `Enrolled face ${face.id} ("${face.label}") for ${user}: ${res.good} frames, models ${face.models.map((m) => m.id).join(', ')}.`);
        return { json: { ...summary, face_id: face.id, models: face.models } };
      } finally {
        await camera.shutdown();
        await engine.close();
        store.close();
      }
    }),
  );
}
