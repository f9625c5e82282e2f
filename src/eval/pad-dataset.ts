import { BONA_FIDE_CLASS, listPadDataset as listPadFrames } from '../liveness/pad-dataset.js';

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

export const BONA_FIDE = BONA_FIDE_CLASS;

/**
 * A presentation-attack set (CLASS/SUBJECT/SEQUENCE-FRAME.ext, nuaa-dev's layout) as sequences: the frames the PAD
 * classifier's reader lists (src/liveness/pad-dataset.ts, sorted by class, subject and name, so time order within
 * a sequence), grouped by class, subject and sequence name.
 */
export function listPadDataset(root: string): PadDataset {
  const frames = listPadFrames(root);
  const sequences: PadSequence[] = [];
  const index = new Map<string, PadSequence>();
  for (const f of frames) {
    const key = `${f.cls}\0${f.subject}\0${f.sequence}`;
    let s = index.get(key);
    if (!s) {
      s = { cls: f.cls, subject: f.subject, name: f.sequence, frames: [] };
      index.set(key, s);
      sequences.push(s);
    }
    s.frames.push(f.path);
  }
  if (!sequences.some((s) => s.cls === BONA_FIDE)) throw new Error(`${root}: no "${BONA_FIDE}" frames (layout CLASS/SUBJECT/SEQUENCE-FRAME.jpg)`);
  return {
    root,
    attackTypes: [...new Set(sequences.map((s) => s.cls).filter((c) => c !== BONA_FIDE))].sort(),
    subjects: [...new Set(sequences.map((s) => s.subject))].sort(),
    sequences,
  };
}
