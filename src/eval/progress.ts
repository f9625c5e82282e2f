/** A one-line progress bar on stderr, only when stderr is a terminal (logs and pipes stay clean). */
export class Progress {
  private readonly tty: boolean;
  private last = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  tick(done: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (done < this.total && now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const frac = this.total > 0 ? done / this.total : 1;
    const fill = Math.round(frac * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${this.total}`);
  }

  end(): void {
    if (this.tty) this.stream.write('\n');
  }
}
