import fs from 'node:fs';
import path from 'node:path';

/** One line of LFW's pairs.txt: two images of the same person (matched) or of two people (mismatched). */
export interface LfwPair {
  readonly a: { name: string; n: number };
  readonly b: { name: string; n: number };
  readonly same: boolean;
  /** 0-based fold. */
  readonly fold: number;
  /** 1-based line in the file, for error messages. */
  readonly line: number;
}

export interface LfwPairs {
  readonly folds: number;
  readonly pairsPerFold: number;
  readonly pairs: readonly LfwPair[];
}

/**
 * Parses LFW's pairs.txt: a header "F P" (folds, pairs per fold; a lone "P" means one fold), then per fold P
 * matched lines "Name n1 n2" followed by P mismatched lines "Name1 n1 Name2 n2", whitespace-separated. Blank
 * lines are ignored. Anything else is an error naming the line.
 */
export function parseLfwPairs(text: string, source = 'pairs file'): LfwPairs {
  const lines = text.split(/\r?\n/);
  let li = 0;
  const next = (): { tokens: string[]; line: number } | null => {
    while (li < lines.length) {
      const raw = lines[li++]!;
      if (raw.trim() !== '') return { tokens: raw.trim().split(/\s+/), line: li };
    }
    return null;
  };
  const fail = (line: number, msg: string): never => {
    throw new Error(`${source}:${line}: ${msg}`);
  };
  const count = (tok: string, line: number, what: string): number => {
    if (!/^\d+$/.test(tok)) fail(line, `${what} must be a positive integer, got "${tok}"`);
    const v = Number(tok);
    if (v < 1 || !Number.isSafeInteger(v)) fail(line, `${what} must be a positive integer, got "${tok}"`);
    return v;
  };
  const header = next();
  if (!header) throw new Error(`${source}: empty file`);
  let folds: number;
  let perFold: number;
  if (header.tokens.length === 2) {
    folds = count(header.tokens[0]!, header.line, 'fold count');
    perFold = count(header.tokens[1]!, header.line, 'pairs per fold');
  } else if (header.tokens.length === 1) {
    folds = 1;
    perFold = count(header.tokens[0]!, header.line, 'pair count');
  } else {
    return fail(header.line, `header must be "folds pairs_per_fold", got "${header.tokens.join(' ')}"`);
  }
  const pairs: LfwPair[] = [];
  for (let fold = 0; fold < folds; fold++) {
    for (const same of [true, false]) {
      for (let p = 0; p < perFold; p++) {
        const row = next();
        const kind = same ? 'matched' : 'mismatched';
        if (!row) {
          throw new Error(`${source}: ended early: fold ${fold + 1} needs ${perFold} ${kind} pairs, found ${p} (header says ${folds}×${perFold})`);
        }
        const t = row.tokens;
        if (same) {
          if (t.length !== 3) fail(row.line, `expected a matched pair "Name n1 n2" (fold ${fold + 1}), got ${t.length} fields`);
          pairs.push({
            a: { name: t[0]!, n: count(t[1]!, row.line, 'image number') },
            b: { name: t[0]!, n: count(t[2]!, row.line, 'image number') },
            same,
            fold,
            line: row.line,
          });
        } else {
          if (t.length !== 4) fail(row.line, `expected a mismatched pair "Name1 n1 Name2 n2" (fold ${fold + 1}), got ${t.length} fields`);
          pairs.push({
            a: { name: t[0]!, n: count(t[1]!, row.line, 'image number') },
            b: { name: t[2]!, n: count(t[3]!, row.line, 'image number') },
            same,
            fold,
            line: row.line,
          });
        }
        for (const name of [t[0]!, t[t.length === 4 ? 2 : 0]!]) {
          if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') fail(row.line, `bad name "${name}"`);
        }
      }
    }
  }
  const extra = next();
  if (extra) fail(extra.line, `unexpected line after ${folds}×${perFold}×2 pairs`);
  return { folds, pairsPerFold: perFold, pairs };
}

export function readLfwPairs(file: string): LfwPairs {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read pairs file ${file}: ${(err as Error).message}`);
  }
  return parseLfwPairs(text, file);
}

/** LFW's naming: DIR/Name/Name_0001.jpg. */
export function lfwImagePath(dir: string, name: string, n: number): string {
  return path.join(dir, name, `${name}_${String(n).padStart(4, '0')}.jpg`);
}

/**
 * Writes an LFW-style pairs file for a dataset of <Name>/<Name>_NNNN.jpg people, for checking the 10-fold
 * protocol where the real pairs.txt people are absent. As in LFW, folds are identity-disjoint: each person's
 * pairs (matched and mismatched) fall in one fold. Deterministic for a given seed.
 */
export function makeLfwPairs(people: readonly { name: string; images: readonly number[] }[], folds: number, perFold: number, seed = 1): string {
  let s = seed >>> 0;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
  const groups: (typeof people)[number][][] = Array.from({ length: folds }, () => []);
  people.forEach((p, i) => {
    groups[i % folds]!.push(p);
  });
  const lines = [`${folds}\t${perFold}`];
  for (const g of groups) {
    const matchedAll: string[] = [];
    for (const p of g) {
      for (let a = 0; a < p.images.length; a++) {
        for (let b = a + 1; b < p.images.length; b++) matchedAll.push(`${p.name}\t${p.images[a]}\t${p.images[b]}`);
      }
    }
    if (matchedAll.length < perFold || g.length < 2) throw new Error('not enough people or images for that many pairs per fold');
    const seen = new Set<string>();
    const matched: string[] = [];
    while (matched.length < perFold) {
      const l = matchedAll[rand(matchedAll.length)]!;
      if (!seen.has(l)) {
        seen.add(l);
        matched.push(l);
      }
    }
    const mismatched: string[] = [];
    while (mismatched.length < perFold) {
      const i = rand(g.length);
      const j = rand(g.length);
      if (i === j) continue;
      const pa = g[i]!;
      const pb = g[j]!;
      const l = `${pa.name}\t${pa.images[rand(pa.images.length)]}\t${pb.name}\t${pb.images[rand(pb.images.length)]}`;
      if (!seen.has(l)) {
        seen.add(l);
        mismatched.push(l);
      }
    }
    lines.push(...matched, ...mismatched);
  }
  return `${lines.join('\n')}\n`;
}
