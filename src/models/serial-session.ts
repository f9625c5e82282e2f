import type { FloatTensor, LoadedModel } from './session.js';

/**
 * One ONNX session driven by one call at a time. Model wrappers reuse a single input buffer, and ORT may still
 * read it after run() has yielded, so overlapping calls would overwrite each other's input. Also owns the
 * closed state, so a call after close() fails instead of touching a released session.
 */
export class SerialSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `what` names the wrapper in errors, e.g. "faceres embedder". */
  constructor(
    readonly model: LoadedModel,
    private readonly what: string,
  ) {}

  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs the session for the named outputs; fails once closed. */
  run(feeds: Readonly<Record<string, FloatTensor>>, names: readonly string[]): Promise<Record<string, FloatTensor>> {
    if (this.closed) return Promise.reject(new Error(`${this.what} is closed`));
    return this.model.run(feeds, names);
  }

  /** Runs the session and returns one float output, checked for the expected length. */
  async output(feeds: Readonly<Record<string, FloatTensor>>, name: string, length: number): Promise<Float32Array> {
    const out = await this.run(feeds, [name]);
    const d = out[name];
    if (!d || d.data.length !== length) throw new Error(`${this.what} returned no ${name} of the expected size`);
    return d.data;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.model.release();
  }
}
