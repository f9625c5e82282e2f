#!/usr/bin/env node
/**
 * How the attempt rule and the population remedy were chosen (docs/accuracy.md, "Per attempt"). Reads the
 * embeddings written by bench/embed-dump.ts (shipped settings), then:
 *  1. every candidate rule at the shipped threshold, per population and W: attempt FRR and false accepts;
 *  2. leave-one-subject-out on each population: the calibration (combineThresholds: unlock + pairs tails, floors)
 *     is rebuilt without one subject and judged on the attempts and images that involve only that subject.
 *
 *   node dist/bench/embed-dump.js --dataset ../shared/datasets/lfw-dev --out /tmp/lfw-dev.json
 *   node dist/bench/embed-dump.js --dataset ../shared/datasets/orl --cropped --out /tmp/orl.json
 *   node dist/bench/embed-dump.js --dataset ../shared/datasets/nuaa-dev/live --out /tmp/nuaa.json
 *   node dist/bench/attempt-sweep.js --vectors lfw-dev=/tmp/lfw-dev.json,orl=/tmp/orl.json,nuaa-dev/live=/tmp/nuaa.json \
 *     --sequences nuaa-dev/live [--json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { attemptScores, summariseAttempts, windows, type AttemptSets } from '../src/eval/attempts.js';
import { enrolmentSplit, impostorGroups, type Dataset } from '../src/eval/dataset.js';
import { operatingPoint, sortDescending, upperBound } from '../src/eval/metrics.js';
import { pairsScores, unlockScores, type Vectors } from '../src/eval/protocols.js';
import type { AttemptRule } from '../src/match/attempt-rule.js';
import { CALIBRATION_FARS, combineThresholds, farKey, thresholdFromTable, type CalibrationSource, type CalibrationTable } from '../src/match/calibration.js';

const { values: args } = parseArgs({
  options: {
    vectors: { type: 'string' },
    sequences: { type: 'string', default: '' },
    far: { type: 'string', default: '1e-4' },
    json: { type: 'boolean', default: false },
  },
});
if (!args.vectors) throw new Error('--vectors NAME=FILE[,NAME=FILE…] is required (files from bench/embed-dump.ts)');
const targetFar = Number(args.far);
const withSequences = new Set(args.sequences!.split(',').filter(Boolean));

interface Population {
  name: string;
  ds: Dataset;
  vec: Vectors;
  sequences: boolean;
}

function loadDump(name: string, file: string): Population {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { images: { rel: string; identity: string; vector: number[] | null }[] };
  const names = [...new Set(doc.images.map((i) => i.identity))];
  const identities = names.map((n) => ({ name: n, images: [] as number[] }));
  const images = doc.images.map((im, i) => {
    const id = names.indexOf(im.identity);
    identities[id]!.images.push(i);
    return { path: im.rel, rel: im.rel, identity: id };
  });
  return {
    name,
    ds: { root: name, identities, images },
    vec: doc.images.map((i) => (i.vector ? Float32Array.from(i.vector) : null)),
    sequences: withSequences.has(name),
  };
}

const pops = args.vectors.split(',').map((kv) => {
  const [name, file] = kv.split('=');
  if (!name || !file) throw new Error(`bad --vectors entry "${kv}"`);
  return loadDump(name, file);
});

const GALLERY = 5;
const AGG = { aggregation: 'mean' as const };

/** A population's calibration source, as `facegate eval --write-calibration` builds it. */
function sourceOf(ds: Dataset, vec: Vectors, sequences: boolean): CalibrationSource {
  const u = unlockScores(ds, vec, { ...AGG, gallery: GALLERY, sequences });
  const p = pairsScores(ds, vec);
  const th = (g: Float64Array, i: Float64Array): Record<string, number> => {
    const gd = sortDescending(g);
    const id = sortDescending(i);
    const out: Record<string, number> = {};
    for (const far of CALIBRATION_FARS) {
      const op = operatingPoint(gd, id, far);
      if (op) out[farKey(far)] = op.threshold;
    }
    return out;
  };
  return {
    protocol: 'unlock',
    genuine: u.genuine.length,
    impostor: u.impostor.length,
    thresholds: th(u.genuine, u.impostor),
    pairs_thresholds: th(p.genuine, p.impostor),
    command: '',
  };
}

function thresholdOf(sources: CalibrationSource[]): number {
  const table = { model: 'x', thresholds: combineThresholds(sources) } as unknown as CalibrationTable;
  return thresholdFromTable(table, targetFar);
}

/** The dataset without identity `h` (indices remapped), and `vec` to match. */
function without(p: Population, h: number): { ds: Dataset; vec: Vectors } {
  const keep = p.ds.images.map((im) => im.identity !== h);
  const remap = new Map<number, number>();
  const images: Dataset['images'][number][] = [];
  const vec: (Float32Array | null)[] = [];
  p.ds.images.forEach((im, i) => {
    if (!keep[i]) return;
    remap.set(i, images.length);
    images.push({ ...im, identity: im.identity > h ? im.identity - 1 : im.identity });
    vec.push(p.vec[i] ?? null);
  });
  const identities = p.ds.identities.filter((_, k) => k !== h).map((id) => ({ name: id.name, images: id.images.map((i) => remap.get(i)!) }));
  return { ds: { root: p.ds.root, identities, images }, vec };
}

const sources = new Map(pops.map((p) => [p.name, sourceOf(p.ds, p.vec, p.sequences)]));
const shipped = thresholdOf([...sources.values()]);
const RULES: AttemptRule[] = [
  { kind: 'k-of', frames: 1 },
  { kind: 'k-of', frames: 2 },
  { kind: 'k-of', frames: 3 },
  { kind: 'best-mean', frames: 2 },
  { kind: 'best-mean', frames: 3 },
];
const FRAMES = [5, 10, 120];

const out: Record<string, unknown> = { target_far: targetFar, threshold: shipped, rules: {}, loso: {} };
const log = (s: string): void => {
  if (!args.json) console.log(s);
};
log(`threshold for FAR ${targetFar} from ${pops.map((p) => p.name).join(' + ')}: ${shipped.toFixed(4)}`);
log('\n1. Rules at the shipped threshold: attempt FRR (false rejects/genuine) | false accepts/impostor attempts');
const attemptsOf = new Map<string, AttemptSets>();
for (const p of pops) {
  for (const w of FRAMES) {
    const sets = attemptScores(p.ds, p.vec, { ...AGG, gallery: GALLERY, sequences: p.sequences, frames: w });
    attemptsOf.set(`${p.name}/${w}`, sets);
    const cells: string[] = [];
    const rec: Record<string, unknown> = {};
    for (const rule of RULES) {
      const s = summariseAttempts(sets, rule, shipped);
      cells.push(`${rule.kind} ${rule.frames}: ${(100 * s.frr).toFixed(1)}% (${s.false_rejects}/${s.genuine}) | ${s.false_accepts}/${s.impostor}`);
      rec[`${rule.kind}:${rule.frames}`] = {
        frr: s.frr,
        false_rejects: s.false_rejects,
        genuine: s.genuine,
        false_accepts: s.false_accepts,
        impostor: s.impostor,
        far_upper95: s.far_upper95,
      };
    }
    (out.rules as Record<string, unknown>)[`${p.name}/W=${w}`] = {
      frames_genuine_max: sets.genuineFramesMax,
      frames_impostor_max: sets.impostorFramesMax,
      ...rec,
    };
    log(`${p.name} W=${w} (≤${sets.genuineFramesMax}/${sets.impostorFramesMax} frames): ${cells.join('; ')}`);
  }
}

log('\n2. Leave one subject out: calibration without the subject, judged on what involves only that subject');
const rule: AttemptRule = { kind: 'best-mean', frames: 2 };
for (const p of pops) {
  let imgFa = 0;
  let imgN = 0;
  let attFa = 0;
  let attN = 0;
  let attFr = 0;
  let attG = 0;
  const perSubject: unknown[] = [];
  // Scores of every image against every gallery, once (the held-out subject's rows and columns are read from it).
  const full = unlockPerGallery(p);
  const sets = attemptsOf.get(`${p.name}/10`) ?? attemptScores(p.ds, p.vec, { ...AGG, gallery: GALLERY, sequences: p.sequences, frames: 10 });
  const owners = attemptOwners(p, 10);
  for (let h = 0; h < p.ds.identities.length; h++) {
    const rest = without(p, h);
    const t = thresholdOf([...pops.filter((q) => q !== p).map((q) => sources.get(q.name)!), sourceOf(rest.ds, rest.vec, p.sequences)]);
    // Per image: impostor images of h against other galleries and other people's images against h's gallery.
    let fa = 0;
    let n = 0;
    for (const r of full) {
      if ((r.gallery === h) === (r.probe === h)) continue;
      n++;
      if (r.score > t) fa++;
    }
    let afa = 0;
    let an = 0;
    let afr = 0;
    let ag = 0;
    sets.impostor.forEach((a, i) => {
      const o = owners.impostor[i]!;
      if ((o.gallery === h) === (o.probe === h)) return;
      an++;
      if (summariseAttempts({ ...sets, genuine: [], impostor: [a] }, rule, t).false_accepts) afa++;
    });
    sets.genuine.forEach((a, i) => {
      if (owners.genuine[i] !== h) return;
      ag++;
      if (summariseAttempts({ ...sets, genuine: [a], impostor: [] }, rule, t).false_rejects) afr++;
    });
    imgFa += fa;
    imgN += n;
    attFa += afa;
    attN += an;
    attFr += afr;
    attG += ag;
    perSubject.push({
      subject: p.ds.identities[h]!.name,
      threshold: t,
      image_false_accepts: fa,
      images: n,
      attempt_false_accepts: afa,
      attempts: an,
      attempt_false_rejects: afr,
      genuine_attempts: ag,
    });
  }
  const rec = {
    image_far: imgFa / imgN,
    image_false_accepts: imgFa,
    images: imgN,
    attempt_far: attFa / attN,
    attempt_false_accepts: attFa,
    attempts: attN,
    attempt_far_upper95: upperBound(attFa, attN),
    attempt_frr: attG ? attFr / attG : NaN,
    attempt_false_rejects: attFr,
    genuine_attempts: attG,
    subjects: perSubject,
  };
  (out.loso as Record<string, unknown>)[p.name] = rec;
  log(
    `${p.name}: per-image FAR ${rec.image_far.toExponential(2)} (${imgFa}/${imgN}); attempts W=10 FAR ${attFa}/${attN} (95 % ≤ ${rec.attempt_far_upper95.toExponential(2)}), FRR ${(100 * rec.attempt_frr).toFixed(1)}% (${attFr}/${attG})`,
  );
  for (const s of perSubject as { subject: string; threshold: number; image_false_accepts: number; images: number }[]) {
    if (s.image_false_accepts)
      log(`   subject ${s.subject} held out: threshold ${s.threshold.toFixed(4)}, ${s.image_false_accepts}/${s.images} of its impostor images accepted`);
  }
}
if (args.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);

/** Every (gallery, impostor image) unlock score with who is who, in unlockScores' emission order. */
function unlockPerGallery(p: Population): { gallery: number; probe: number; score: number }[] {
  const u = unlockScores(p.ds, p.vec, { ...AGG, gallery: GALLERY, sequences: p.sequences });
  const rows: { gallery: number; probe: number; score: number }[] = [];
  let k = 0;
  for (let g = 0; g < p.ds.identities.length; g++) {
    for (let o = 0; o < p.ds.identities.length; o++) {
      if (o === g) continue;
      for (let j = 0; j < p.ds.identities[o]!.images.length; j++) rows.push({ gallery: g, probe: o, score: u.impostor[k++]! });
    }
  }
  return rows;
}

/** Who each attempt of attemptScores belongs to, in its emission order (the same loops as attemptScores). */
function attemptOwners(p: Population, w: number): { genuine: number[]; impostor: { gallery: number; probe: number }[] } {
  const genuine: number[] = [];
  const impostor: { gallery: number; probe: number }[] = [];
  const n = p.ds.identities.length;
  for (let g = 0; g < n; g++) {
    for (const group of enrolmentSplit(p.ds, g, GALLERY, p.sequences).probes) for (const _ of windows(group, w)) genuine.push(g);
    for (let o = 0; o < n; o++) {
      if (o === g) continue;
      for (const group of impostorGroups(p.ds, o, p.sequences)) for (const _ of windows(group, w)) impostor.push({ gallery: g, probe: o });
    }
  }
  return { genuine, impostor };
}
