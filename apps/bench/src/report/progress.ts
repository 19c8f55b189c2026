import cliProgress from "cli-progress";

/**
 * Progress over the whole run, on stderr: a bar on a terminal, one line per run otherwise (CI logs,
 * turbo's piped output), so stdout carries only the report.
 */
export class Progress {
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #runs: number;
  #done = 0;
  /** Runs the current one stands for (an interleaved run stands for each of its systems' runs). */
  #weight = 1;

  /** `enabled` undefined: a bar when stderr is a TTY. */
  constructor(runs: number, enabled: boolean | undefined) {
    this.#runs = runs;
    if (enabled ?? process.stderr.isTTY === true) {
      this.#bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: " {bar} {percentage}% | run {run}/{runs} | {label} | ETA {eta_formatted}", hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(runs * 100, 0, { run: 0, runs, label: "starting" });
    }
  }

  /** A run begins; `runs`: how many planned runs it stands for. */
  begin(label: string, runs = 1): void {
    this.#weight = runs;
    if (this.#bar) this.#bar.update(this.#done * 100, { run: this.#done + 1, label });
    else process.stderr.write(`[${this.#done + 1}/${this.#runs}] ${label}\n`);
  }

  /** The current run is `fraction` (0..1) done. */
  update(fraction: number): void {
    this.#bar?.update(Math.round((this.#done + Math.min(1, fraction) * this.#weight) * 100));
  }

  /** The current run is over. */
  end(): void {
    this.#done += this.#weight;
    this.#bar?.update(this.#done * 100);
  }

  /** A note that must not tear the bar (skips, failures). */
  note(message: string): void {
    // Clear the bar's line first; it redraws itself on the next update.
    process.stderr.write(this.#bar ? `\r\x1b[2K${message}\n` : `${message}\n`);
  }

  stop(): void {
    this.#bar?.stop();
  }
}
