import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { evalPad, shippedCalibration, type EvalPadReport } from '../../eval/eval-pad.js';
import { listPadDataset } from '../../eval/pad-dataset.js';
import { rocSvg } from '../../eval/roc-svg.js';
import { datasetsDir } from '../../paths.js';
import { CliError, configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';
import { loadEngine, positiveInt } from '../engine-loader.js';
import { loadPadFolds } from '../../eval/pad-folds.js';

interface EvalPadOptions extends CommonOptions {
  dataset: string;
  plot?: string;
  window: number;
  fusionWindow: number;
  percentile: string;
  writeCalibration?: string;
  pad: boolean;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : 'n/a');

function formatPad(r: EvalPadReport): string {
  const a = r.attempts;
  const lines = [`dataset ${r.dataset}`];
  if (r.frames) lines.push(`frames (PAD classifier, leave-subjects-out): ${JSON.stringify(r.frames)}`);
  else lines.push('frames: PAD classifier not used (--no-pad)');
  lines.push('cues alone (window medians, out-of-fold PAD), EER live vs attack:');
  for (const [cue, f] of Object.entries(r.cues))
    lines.push(
      `  ${cue.padEnd(10)} ${Object.entries(f.window_eer)
        .map(([t, e]) => `${t} ${pct(e)}`)
        .join(', ')}  (${f.live_windows} live windows)`,
    );
  lines.push(
    `attempts of ${a.window} frames through verifyFace (fusion window ${r.fusion.window}, cues ${r.fusion.cues.join(', ')}; thresholds fitted without the attempt's subject):`,
  );
  lines.push(`  live: ${a.live} attempts, rejected ${pct(a.live_rejected)} ${JSON.stringify(a.live_reasons)}`);
  for (const [t, n] of Object.entries(a.attack)) lines.push(`  ${t}: ${n} attempts, accepted (IAPMR) ${pct(a.iapmr[t]!)}`);
  if (a.unenrolled_subjects.length > 0) lines.push(`  not enrolled (no live sequence), their attacks not played: ${a.unenrolled_subjects.join(', ')}`);
  lines.push(`liveness stage: ${r.ms_per_frame} ms/frame wall, ${r.cpu_ms_per_frame} ms/frame CPU (load average ${r.load_average_1m.toFixed(1)})`);
  return lines.join('\n');
}

/** facegate eval-pad: presentation-attack figures (docs/liveness.md) on a CLASS/SUBJECT/SEQUENCE-FRAME set. */
export function registerEvalPad(program: Command): void {
  withCommonOptions(
    program
      .command('eval-pad')
      .description('liveness figures on a presentation-attack set laid out CLASS/SUBJECT/SEQUENCE-FRAME.jpg (live = bona fide)')
      .option('--dataset <dir>', 'data set root', path.join(datasetsDir(), 'nuaa-dev'))
      .option('--plot <svg>', 'write ROC curves (each cue alone, live vs attack windows) as SVG')
      .option('--window <n>', 'frames per attempt', (v) => positiveInt('--window', v, 1000), 20)
      .option('--fusion-window <n>', 'analysed frames per liveness window (default: calibration)', (v) => positiveInt('--fusion-window', v, 100), 8)
      .option('--percentile <q>', 'share of training live windows each cue threshold may reject', '0.02')
      .option('--no-pad', 'leave the PAD classifier out (multi-frame cues only)')
      .option('--write-calibration <file>', 'fit the fusion on every subject (out-of-fold PAD) and write it as the shipped calibration'),
    { socket: false },
  ).action((opts: EvalPadOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      const q = Number(opts.percentile);
      if (!(q >= 0 && q < 0.5)) throw new CliError('--percentile must be in [0, 0.5)', EXIT.USAGE);
      let ds;
      try {
        ds = listPadDataset(opts.dataset);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.USAGE);
      }
      const progress = (stage: string, done: number, total: number): void => {
        if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r${stage} ${done}${total ? `/${total}` : ''}   `);
      };
      const engine = await loadEngine(cfg);
      const pad = opts.pad ? await loadPadFolds(opts.dataset, cfg.daemon.threads > 0 ? cfg.daemon.threads : undefined, progress) : null;
      try {
        const { report, seqs, roc } = await evalPad({
          ds,
          engine,
          // No early no-face answer: files decode at machine speed, not camera time (nuaa-dev frames all show a face).
          settings: { ...cfg.verify, face_wait: 0, dark_threshold: cfg.camera.dark_threshold },
          targetFar: cfg.verify.target_far,
          attemptFrames: opts.window,
          fusionWindow: opts.fusionWindow,
          percentile: q,
          liveness: cfg.liveness,
          pad,
          onProgress: progress,
        });
        if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
        if (opts.plot) {
          const series = Object.entries(roc).map(([cue, points]) => ({ label: `${cue} (window ${opts.fusionWindow})`, points }));
          // The x axis is the attack presentation acceptance rate, the y axis bona fide acceptance.
          fs.writeFileSync(
            opts.plot,
            rocSvg(series, `Liveness cues: ${path.basename(path.resolve(opts.dataset))}, live vs attack windows (FAR = APCER, TAR = 1 - BPCER)`),
          );
        }
        if (opts.writeCalibration) {
          const cal = shippedCalibration(seqs, {
            window: opts.fusionWindow,
            percentile: q,
            ...(pad ? { padSha256: pad.shippedSha256 } : {}),
            command: `facegate eval-pad --dataset ${path.relative(process.cwd(), path.resolve(opts.dataset))} --fusion-window ${opts.fusionWindow} --percentile ${q}${opts.pad ? '' : ' --no-pad'} --write-calibration ${opts.writeCalibration}`,
            report,
          });
          fs.writeFileSync(opts.writeCalibration, `${JSON.stringify(cal, null, 2)}\n`);
        }
        say(opts, formatPad(report));
        return { json: report };
      } finally {
        await engine.close();
        await pad?.close();
      }
    }),
  );
}
