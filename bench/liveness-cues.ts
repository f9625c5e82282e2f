#!/usr/bin/env node
// node dist/bench/liveness-cues.js [--dataset DIR] [--json] [--dump FILE]: each multi-frame liveness cue measured
// alone on a presentation-attack set (nuaa-dev layout), per frame pair: live vs each attack type, EER and the
// distributions. --dump writes the per-frame cue values (numbers only) for fusion analysis.
import fs from 'node:fs';
import path from 'node:path';
import { equalErrorRate } from '../src/eval/metrics.js';
import { listPadDataset } from '../src/eval/pad-dataset.js';
import { eyeAspectRatio } from '../src/liveness/eyes.js';
import { straightEdgeShare } from '../src/liveness/edges.js';
import { regionMotion } from '../src/liveness/motion.js';
import { planarity } from '../src/liveness/planarity.js';
import { smallGrey, type SmallGrey } from '../src/liveness/small-grey.js';
import { datasetsDir } from '../src/paths.js';
import { decodeFile } from '../src/vision/decode.js';
import { FacePipeline } from '../src/vision/pipeline.js';
import type { Box, Point } from '../src/vision/types.js';

interface FrameCues {
  cls: string;
  subject: string;
  seq: string;
  index: number;
  face: boolean;
  box?: Box;
  landmarks?: Point[];
  ear?: number;
  edges?: number;
  planarity?: { residual: number; motion: number };
  motion?: { face: number; ring: number; coherence: number };
  ms: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string): string | undefined => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
  const root = opt('--dataset') ?? path.join(datasetsDir(), 'nuaa-dev');
  const dump = opt('--dump');
  const json = argv.includes('--json');
  const ds = listPadDataset(root);
  const pipe = await FacePipeline.load({ embedders: [], landmarker: '68', intraOpThreads: 1 });
  const out: FrameCues[] = [];
  try {
    for (const s of ds.sequences) {
      let prev: { g: SmallGrey; lm: Point[] } | null = null;
      for (let i = 0; i < s.frames.length; i++) {
        const img = await decodeFile(s.frames[i]!);
        const res = await pipe.analyze(img, { embed: false, maxFaces: 1 });
        const t0 = performance.now();
        const f = res.faces[0];
        const g = smallGrey(img);
        const c: FrameCues = { cls: s.cls, subject: s.subject, seq: s.name, index: i, face: !!f, ms: 0 };
        if (f && f.landmarks.length === 68) {
          c.box = f.box;
          c.landmarks = f.landmarks.map((p) => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 }));
          c.ear = eyeAspectRatio(f.landmarks) ?? undefined;
          c.edges = straightEdgeShare(g, f.box) ?? undefined;
          if (prev) {
            c.planarity = planarity(prev.lm, f.landmarks) ?? undefined;
            c.motion = regionMotion(prev.g, g, f.box) ?? undefined;
          }
          prev = { g, lm: f.landmarks };
        } else prev = null;
        c.ms = performance.now() - t0;
        out.push(c);
      }
      if (!json) process.stderr.write(`${s.cls}/${s.subject}/${s.name}\n`);
    }
  } finally {
    await pipe.close();
  }
  if (dump) fs.writeFileSync(dump, JSON.stringify(out));
  const cues: Record<string, (c: FrameCues) => number | undefined> = {
    ear: (c) => c.ear,
    edges_neg: (c) => (c.edges === undefined ? undefined : -c.edges),
    planarity_residual: (c) => c.planarity?.residual,
    motion_coherence_neg: (c) => (c.motion === undefined ? undefined : -c.motion.coherence),
  };
  const report: Record<string, unknown> = {};
  for (const [name, get] of Object.entries(cues)) {
    const live = out
      .filter((c) => c.cls === 'live')
      .map(get)
      .filter((v): v is number => v !== undefined);
    const per: Record<string, number> = {};
    for (const t of ds.attackTypes) {
      const att = out
        .filter((c) => c.cls === t)
        .map(get)
        .filter((v): v is number => v !== undefined);
      per[t] = Number(equalErrorRate(live, att).eer.toFixed(4));
    }
    report[name] = { eer: per, live_n: live.length };
  }
  const ms = out.map((c) => c.ms).sort((a, b) => a - b);
  report.ms_per_frame_p50 = Number(ms[Math.floor(ms.length / 2)]!.toFixed(2));
  if (json) console.log(JSON.stringify(report, null, 2));
  else console.log(report);
}

main().catch((err: unknown) => {
  console.error(`liveness-cues: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});
