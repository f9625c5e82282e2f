// Real images for tests: the full development sets (../shared/datasets, FACEGATE_DATASETS) when present, else the
// 20 committed in test/fixtures/ (same layout, see its README), so a fresh clone still runs the real models on
// real faces, an enrol-and-verify, and the end-to-end PAM test.
import fs from 'node:fs';
import path from 'node:path';
import { datasetsDir, PACKAGE_ROOT } from '../../src/paths.js';

export const FIXTURES_DIR = path.join(PACKAGE_ROOT, 'test', 'fixtures');

export type DatasetName = 'lfw-dev' | 'nuaa-dev' | 'orl';

/** The fixture folder holding a few images of each dataset (named apart from the datasets themselves). */
const FIXTURE_FOLDER: Record<DatasetName, string> = { 'lfw-dev': 'lfw', 'nuaa-dev': 'nuaa', orl: 'orl-crop' };

const IMAGE = /\.(jpe?g|png|pgm)$/i;

/** The full dataset's directory, or null when it is absent. */
export function fullDataset(name: DatasetName): string | null {
  const dir = path.join(datasetsDir(), name);
  return fs.existsSync(dir) ? dir : null;
}

/** Skip reason for a test that needs the whole dataset (not just the fixtures), or false when it is there. */
export function needsFullDataset(name: DatasetName): string | false {
  return fullDataset(name)
    ? false
    : `needs the full ${name} set: ${path.join(datasetsDir(), name)} is absent (see test/fixtures/README.md; set FACEGATE_DATASETS)`;
}

/** The full dataset when present, else the fixtures' few images of it (null if the fixtures have none). */
export function datasetOrFixtures(name: DatasetName): string | null {
  const full = fullDataset(name);
  if (full) return full;
  const fx = path.join(FIXTURES_DIR, FIXTURE_FOLDER[name]);
  return fs.existsSync(fx) ? fx : null;
}

/** Image files directly in `dir`, sorted by name (for NUAA that is time order within a sequence). */
export function imagesIn(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => IMAGE.test(f))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
}

function nuaa(cls: 'live' | 'print', subject: string, n: number): string[] {
  const root = datasetOrFixtures('nuaa-dev');
  const files = root ? imagesIn(path.join(root, cls, subject)).slice(0, n) : [];
  if (files.length < n) throw new Error(`nuaa-dev ${cls}/${subject}: ${files.length} of ${n} frames (test/fixtures damaged?)`);
  return files;
}

/**
 * A genuine user at a live camera, an attack and an impostor (the frames test/fixtures holds): subject 0001's
 * first 12 consecutive live frames, enrolled from the first 5 and verified with the other 7 in time order; 5
 * frames of a printed photo of 0001; 2 live frames of subject 0011.
 */
export function liveScenario(): { enrol: string[]; genuine: string[]; print: string[]; impostor: string[] } {
  const live = nuaa('live', '0001', 12);
  return { enrol: live.slice(0, 5), genuine: live.slice(5), print: nuaa('print', '0001', 5), impostor: nuaa('live', '0011', 2) };
}

/**
 * `n` photos of real faces, one person each where the data allows: the first image of the first `n` lfw-dev
 * identities, else the fixtures (two live NUAA subjects, the printed photo, then more frames of the first
 * subject). `centred` is true for lfw-dev's deep-funneled 250×250 images, whose face is at the centre.
 */
export function realFaces(n: number): { name: string; file: string; centred: boolean }[] {
  const lfw = fullDataset('lfw-dev');
  if (lfw) {
    return fs
      .readdirSync(lfw)
      .sort()
      .slice(0, n)
      .map((p) => {
        const file = imagesIn(path.join(lfw, p))[0]!;
        return { name: path.basename(file), file, centred: true };
      });
  }
  const s = liveScenario();
  const pool = [s.enrol[0]!, s.impostor[0]!, s.print[0]!, ...s.genuine, ...s.enrol.slice(1)];
  return pool.slice(0, n).map((file) => ({ name: path.relative(FIXTURES_DIR, file), file, centred: false }));
}

/** A tight grey face crop (ORL), for the `cropped` path. */
export function croppedFace(): string {
  const root = datasetOrFixtures('orl');
  const file = root ? path.join(root, 's1', '1.pgm') : '';
  if (!fs.existsSync(file)) throw new Error('orl/s1/1.pgm missing (test/fixtures damaged?)');
  return file;
}
