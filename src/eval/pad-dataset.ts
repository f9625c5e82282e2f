import fs from 'node:fs';
import path from 'node:path';
import { byName, IMAGE_EXTENSIONS } from './dataset.js';

/** One captured sequence: the frames of one subject in one class, in time order. */
export interface PadSequence {
  /** `live` (bona fide) or an attack type (every other class folder name, e.g. `print`). */
  cls: string;
  subject: string;
  /** Sequence name: the file name up to the last '-'. */
  name: string;
  /** Absolute paths in time order. */
  frames: string[];
}

export interface PadDataset {
  root: string;
  /** Attack types present (class folders other than `live`), sorted. */
  attackTypes: string[];
  /** Subject ids present in any class, sorted. */
  subjects: string[];
  sequences: PadSequence[];
}

export const BONA_FIDE = 'live';

/**
 * Reads a presentation-attack set laid out as CLASS/SUBJECT/SEQUENCE-FRAME.ext (nuaa-dev's layout): `live` is
 * bona fide, every other class an attack type. Frames sort by name within a sequence, which is time order when
 * frame numbers are zero-padded.
 */
export function listPadDataset(root: string): PadDataset {
  const dirs = (p: string): string[] =>
    fs
      .readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(byName);
  let classes: string[];
  try {
    classes = dirs(root);
  } catch (err) {
    throw new Error(`cannot read dataset ${root}: ${(err as Error).message}`);
  }
  if (!classes.includes(BONA_FIDE)) throw new Error(`${root}: no "${BONA_FIDE}" class folder (layout CLASS/SUBJECT/SEQUENCE-FRAME.jpg)`);
  const sequences: PadSequence[] = [];
  const subjects = new Set<string>();
  for (const cls of classes) {
    for (const subject of dirs(path.join(root, cls))) {
      const bySeq = new Map<string, string[]>();
      const files = fs
        .readdirSync(path.join(root, cls, subject))
        .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
        .sort(byName);
      for (const f of files) {
        const stem = path.basename(f, path.extname(f));
        const cut = stem.lastIndexOf('-');
        const seq = cut > 0 ? stem.slice(0, cut) : stem;
        let list = bySeq.get(seq);
        if (!list) bySeq.set(seq, (list = []));
        list.push(path.join(root, cls, subject, f));
      }
      for (const [name, frames] of [...bySeq].sort((a, b) => byName(a[0], b[0]))) {
        sequences.push({ cls, subject, name, frames });
        subjects.add(subject);
      }
    }
  }
  return { root, attackTypes: classes.filter((c) => c !== BONA_FIDE), subjects: [...subjects].sort(byName), sequences };
}
