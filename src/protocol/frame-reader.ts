import { ProtocolError } from './errors.js';
import { HEADER_SIZE, checkHeaderPrefix, decodePayload, parseHeader } from './codec.js';
import type { Message } from './types.js';

/**
 * Incremental frame reader for a stream socket. Feed it chunks as they arrive; it returns whole messages.
 * It holds at most one header plus one payload of the length that header announced (≤ MAX_PAYLOAD), so a
 * peer cannot make it buffer more than MAX_FRAME bytes. After the first error it stays failed and
 * throws that error again: a stream that lost framing cannot be trusted further.
 */
export class FrameReader {
  private header = Buffer.alloc(HEADER_SIZE);
  private headerFill = 0;
  private payload: Buffer | null = null;
  private payloadFill = 0;
  private failed: ProtocolError | null = null;

  /** Bytes of an incomplete frame held right now. */
  get pending(): number {
    return this.headerFill + this.payloadFill;
  }

  /** Consumes a chunk; returns the messages it completed (possibly none). Throws ProtocolError. */
  push(chunk: Uint8Array): Message[] {
    if (this.failed) throw this.failed;
    const out: Message[] = [];
    let i = 0;
    try {
      while (i < chunk.length) {
        if (this.payload === null) {
          const n = Math.min(HEADER_SIZE - this.headerFill, chunk.length - i);
          this.header.set(chunk.subarray(i, i + n), this.headerFill);
          this.headerFill += n;
          i += n;
          // Reject bad magic/version as soon as those bytes arrive, not only once the header is complete.
          if (this.headerFill < HEADER_SIZE) {
            checkHeaderPrefix(this.header.subarray(0, this.headerFill));
            continue;
          }
          this.payload = Buffer.alloc(parseHeader(this.header));
          this.payloadFill = 0;
        }
        const n = Math.min(this.payload.length - this.payloadFill, chunk.length - i);
        this.payload.set(chunk.subarray(i, i + n), this.payloadFill);
        this.payloadFill += n;
        i += n;
        if (this.payloadFill === this.payload.length) {
          const payload = this.payload;
          this.payload = null;
          this.payloadFill = 0;
          this.headerFill = 0;
          out.push(decodePayload(payload));
        }
      }
    } catch (e) {
      this.failed = e instanceof ProtocolError ? e : new ProtocolError('bad-syntax', String(e));
      this.payload = null;
      this.payloadFill = 0;
      this.headerFill = 0;
      throw this.failed;
    }
    return out;
  }

  /** Call at end of stream: throws ProtocolError('truncated') if a frame was cut off. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending > 0) {
      this.failed = new ProtocolError('truncated', `stream ended with ${this.pending} bytes of an incomplete frame`);
      throw this.failed;
    }
  }
}
