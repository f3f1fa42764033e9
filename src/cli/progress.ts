/**
 * The progress indicator: one self-erasing status line on stderr, drawn only once an operation has
 * taken longer than `delayMs`. Decoding is synchronous, so long jobs run in a worker thread (see
 * main.ts) and this line is animated from the main thread meanwhile.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Spinner {
  private text = '';
  private frame = 0;
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private stopped = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly delayMs: number,
  ) {}

  start(text: string): void {
    this.text = text;
    const begin = (): void => {
      if (this.stopped) return;
      this.draw();
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    };
    if (this.delayMs <= 0) begin();
    else {
      this.delay = setTimeout(begin, this.delayMs);
      this.delay.unref();
    }
  }

  update(text: string): void {
    this.text = text;
  }

  private draw(): void {
    if (this.stopped) return;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const f = FRAMES[this.frame++ % FRAMES.length] as string;
    const cols = this.stream.columns || 80;
    let line = `${f} ${this.text} (${secs} s)`;
    if ([...line].length > cols - 1) line = [...line].slice(0, Math.max(10, cols - 2)).join('') + '…';
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  /** Stop and erase the line (idempotent). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.delay) clearTimeout(this.delay);
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.stream.write('\r\x1b[2K');
  }
}
