import { describeRule } from '../../match/attempt-rule.js';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { CameraManager } from '../../auth/camera-manager.js';
import { createLogger } from '../../daemon/log.js';
import { uidOfUserName } from '../../daemon/peercred.js';
import { untrustedCamera } from '../../camera/identity.js';
import { verifyFace, type FrameReport } from '../../auth/verify.js';
import { staleTemplatesMessage, TemplateStore } from '../../store/store.js';
import { checkArgs, CliError, configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';
import { loadEngine, loadLivenessFor } from '../engine-loader.js';
import type { CueScores } from '../../liveness/fusion.js';

interface TestOptions extends CommonOptions {
  camera?: string;
}

function cueText(c: CueScores): string {
  return Object.entries(c)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ');
}

function frameLine(r: FrameReport, threshold: number): string {
  const head = `frame ${String(r.sequence).padStart(4)}  ${r.ms.toFixed(1).padStart(6)} ms  `;
  if (r.dark) return `${head}dark (mean ${r.brightness.toFixed(0)}), skipped`;
  if (r.faces === 0) return `${head}no face`;
  if (r.problem) return `${head}${r.faces} face(s), rejected: ${r.problem}`;
  const match = `score ${r.score!.toFixed(4)} ${r.match ? '>' : '<='} ${threshold.toFixed(4)}  ${r.match ? 'match' : 'no match'}`;
  if (!r.liveness) return match;
  const l = r.liveness;
  return `${match}\n      liveness: ${cueText(l.cues) || 'no cue'}  window ${l.live ? 'live' : `not live (${l.failed.join(', ')})`}`;
}

/** facegate test USER: one verification, in-process, exactly as facegated would decide it. */
export function registerTest(program: Command): void {
  withCommonOptions(
    program
      .command('test <user>')
      .description('verify USER once with the camera, printing per-frame scores, the threshold and the decision')
      .option('--camera <spec>', 'camera: v4l2:/dev/videoN or replay:DIR (overrides camera.device)'),
    { socket: false },
  ).action((user: string, opts: TestOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      checkArgs(user);
      let store: TemplateStore;
      try {
        store = TemplateStore.open(cfg.daemon.db, { readonly: true });
      } catch (err) {
        throw new CliError(`cannot open ${cfg.daemon.db}: ${(err as Error).message}`);
      }
      const engine = await loadEngine(cfg).catch((err: unknown) => {
        store.close();
        throw err;
      });
      const liveness = await loadLivenessFor(cfg).catch(async (err: unknown) => {
        await engine.close();
        store.close();
        throw err;
      });
      const camera = new CameraManager(
        cfg.camera.device,
        0,
        createLogger(() => {}),
        undefined,
        (info) => untrustedCamera(info, cfg.camera),
      );
      try {
        // As the daemon: only faces bound to the account's current uid.
        const lookup = store.templatesFor(user, engine.models, { uid: uidOfUserName(user) ?? -1 });
        if (lookup.byModel.size === 0) {
          if (lookup.stale.length > 0) throw new CliError(staleTemplatesMessage(user, lookup.stale));
          throw new CliError(`${user} has no enrolled face for ${engine.models.map((m) => m.id).join(', ')}; run "facegate enroll ${user}"`);
        }
        const matcher = engine.matcher(lookup.byModel, cfg.verify.target_far);
        if (!matcher) throw new CliError(`${user} has no templates for ${engine.models[0]!.id}; re-enrol with "facegate enroll ${user}"`);
        const t0 = performance.now();
        const deadline = t0 + cfg.verify.timeout * 1000;
        let lease;
        try {
          lease = await camera.acquire(deadline);
        } catch (err) {
          throw new CliError(`camera: ${(err as Error).message}`);
        }
        say(
          opts,
          `Testing ${user} with ${engine.models[0]!.id} at target FAR ${cfg.verify.target_far} (threshold ${matcher.threshold.toFixed(4)}, rule: ${describeRule({ kind: cfg.verify.rule, frames: cfg.verify.rule_frames })}), camera ${cfg.camera.device}`,
        );
        let runRes;
        try {
          runRes = await verifyFace({
            nextFrame: (dl, sig) => lease.nextFrame(dl, sig),
            engine,
            matcher,
            liveness: liveness?.checker ?? null,
            settings: { ...cfg.verify, dark_threshold: cfg.camera.dark_threshold },
            deadline,
            onFrame: (r) => say(opts, frameLine(r, matcher.threshold)),
          });
        } finally {
          lease.release();
        }
        const ms = Math.round(performance.now() - t0);
        const { result, reason } = runRes.outcome;
        const lv = runRes.liveness;
        if (lv) {
          say(
            opts,
            `Liveness: ${lv.live ? 'live' : `not live (${lv.failed.join(', ')})`} over ${lv.frames} frame(s), ${(lv.ms / Math.max(1, lv.frames)).toFixed(1)} ms/frame; window ${cueText(lv.window)}`,
          );
        } else say(opts, 'Liveness: off (liveness.enabled = false): a photo of the user would be allowed');
        say(opts, `Decision: ${result} (${reason}) after ${runRes.frames.length} frame(s), ${ms} ms`);
        return {
          json: {
            user,
            model: engine.models[0]!.id,
            target_far: cfg.verify.target_far,
            threshold: matcher.threshold,
            rule: { kind: cfg.verify.rule, frames: cfg.verify.rule_frames },
            result,
            reason,
            ms,
            best_score: runRes.bestScore ?? null,
            liveness: lv
              ? { live: lv.live, failed: lv.failed, frames: lv.frames, ms_per_frame: Number((lv.ms / Math.max(1, lv.frames)).toFixed(2)), window: lv.window }
              : null,
            frames: runRes.frames.map((f) => ({ ...f, ms: Number(f.ms.toFixed(2)), brightness: Number(f.brightness.toFixed(1)) })),
          },
          code: result === 'allow' ? EXIT.OK : result === 'deny' ? EXIT.FAIL : EXIT.UNAVAILABLE,
        };
      } finally {
        await camera.shutdown();
        await engine.close();
        await liveness?.close();
        store.close();
      }
    }),
  );
}
