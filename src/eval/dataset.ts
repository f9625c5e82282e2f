import fs from 'node:fs';
import path from 'node:path';

/** File extensions eval treats as images; anything else in an identity folder is ignored. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.pgm', '.ppm', '.pnm', '.webp', '.bmp', '.tif', '.tiff']);

export interface DatasetImage {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the dataset root, for reports. */
  readonly rel: string;
  /** Index into Dataset.identities. */
  readonly identity: number;
}

export interface Identity {
  readonly name: string;
  /** Indices into Dataset.images, in name order. */
  readonly images: readonly number[];
}

export interface Dataset {
  readonly root: string;
  readonly identities: readonly Identity[];
  readonly images: readonly DatasetImage[];
}

/** Name order with digit runs compared as numbers, so ORL's 2.pgm sorts before 10.pgm. */
export function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Reads DIR/<identity>/<image>: every sub-folder is one person, images sorted by name. Top-level files (e.g. a
 * README) and non-image files are ignored; empty identity folders are dropped.
 */
export function listDataset(root: string): Dataset {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new Error(`cannot read dataset ${root}: ${(err as Error).message}`);
  }
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byName);
  const identities: Identity[] = [];
  const images: DatasetImage[] = [];
  for (const name of dirs) {
    const dir = path.join(root, name);
    const files = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort(byName);
    if (files.length === 0) continue;
    const id = identities.length;
    const idx: number[] = [];
    for (const f of files) {
      idx.push(images.length);
      images.push({ path: path.join(dir, f), rel: path.join(name, f), identity: id });
    }
    identities.push({ name, images: idx });
  }
  if (identities.length === 0) throw new Error(`dataset ${root} has no <identity>/<image> folders`);
  return { root, identities, images };
}

/** Keeps the first `maxIdentities` people and at most `maxImages` images of each (for quick runs). */
export function limitDataset(ds: Dataset, maxIdentities?: number, maxImages?: number): Dataset {
  const identities: Identity[] = [];
  const images: DatasetImage[] = [];
  for (const ident of ds.identities.slice(0, maxIdentities ?? ds.identities.length)) {
    const id = identities.length;
    const idx: number[] = [];
    for (const i of ident.images.slice(0, maxImages ?? ident.images.length)) {
      idx.push(images.length);
      images.push({ ...ds.images[i]!, identity: id });
    }
    identities.push({ name: ident.name, images: idx });
  }
  return { root: ds.root, identities, images };
}

/**
 * The recording an image belongs to, for datasets of video frames named `SEQUENCE-FRAME.ext` (NUAA:
 * `s01p00g00-0001.jpg`): the file name up to its last "-". Frames of one recording are nearly identical, so with
 * `--sequences` eval enrols from one recording and probes with the others (see docs/eval.md).
 */
export function sequenceKey(rel: string): string {
  const base = path.basename(rel).replace(/\.[^.]*$/, '');
  const dash = base.lastIndexOf('-');
  return dash > 0 ? base.slice(0, dash) : base;
}

/** An identity's images grouped by recording, groups in order of their first image (name order). */
export function sequenceGroups(ds: Dataset, identity: number): number[][] {
  const groups = new Map<string, number[]>();
  for (const i of ds.identities[identity]!.images) {
    const k = sequenceKey(ds.images[i]!.rel);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(i);
  }
  return [...groups.values()];
}

/**
 * How one identity is split for the unlock and attempt protocols: the gallery (enrolment) is its first `gallery`
 * images; the genuine probes are the rest, as one group. With `sequences`, the gallery is the first `gallery`
 * frames of its first recording, and each of its other recordings is one probe group (the rest of the enrolment
 * recording is not used: it would be the enrolment frames again); an identity with one recording has no probes.
 */
export function enrolmentSplit(ds: Dataset, identity: number, gallery: number, sequences: boolean): { gallery: number[]; probes: number[][] } {
  const imgs = ds.identities[identity]!.images;
  if (!sequences) return { gallery: imgs.slice(0, gallery), probes: imgs.length > gallery ? [imgs.slice(gallery)] : [] };
  const [first, ...rest] = sequenceGroups(ds, identity);
  return { gallery: first!.slice(0, gallery), probes: rest };
}

/** An identity's images as an impostor presents them: one group, or one per recording with `sequences`. */
export function impostorGroups(ds: Dataset, identity: number, sequences: boolean): number[][] {
  return sequences ? sequenceGroups(ds, identity) : [[...ds.identities[identity]!.images]];
}
