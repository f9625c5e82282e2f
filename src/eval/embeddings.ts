/** What the evaluator needs from the vision pipeline: one image path in, one face's embeddings out. */
export type EmbedOutcome = { kind: 'face'; vectors: Readonly<Record<string, Float32Array>> } | { kind: 'noface' } | { kind: 'undecodable'; error: string };

export type EmbedImage = (path: string) => Promise<EmbedOutcome>;

/**
 * Remembers each image's outcome for the life of the process, so that fusion and repeated protocols on the
 * same run reuse the embeddings instead of running the networks again.
 */
export class EmbeddingCache {
  private readonly cache = new Map<string, Promise<EmbedOutcome>>();

  constructor(private readonly embed: EmbedImage) {}

  get(path: string): Promise<EmbedOutcome> {
    let p = this.cache.get(path);
    if (!p) {
      p = this.embed(path).catch(
        (err: unknown): EmbedOutcome => ({
          kind: 'undecodable',
          error: err instanceof Error ? err.message : String(err),
        }),
      );
      this.cache.set(path, p);
    }
    return p;
  }
}
