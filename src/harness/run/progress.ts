// The live view of a run on stderr: on a terminal, one line rewritten every
// second; otherwise (CI, a pipe) a plain line every few seconds, so logs stay
// readable.
import type { SecondFigures } from '../measure/index.js';

const PLAIN_EVERY_SEC = 5;

function k(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}

export function progressLine(s: SecondFigures, elapsedSec: number): string {
  return (
    `[${s.phase.padEnd(6)} ${elapsedSec.toFixed(0).padStart(4)}s] ` +
    `offered ${k(s.offered)}/s  acked ${k(s.acked)}/s  consumed ${k(s.consumed)}/s  backlog ${k(s.backlog)}  ` +
    `send p99 ${s.sendP99Ms.toFixed(1)} ms  e2e p99 ${s.e2eP99Ms >= 1000 ? `${(s.e2eP99Ms / 1000).toFixed(1)} s` : `${s.e2eP99Ms.toFixed(1)} ms`}  ` +
    `gen lag p99 ${s.lagP99Ms.toFixed(1)} ms${s.failed > 0 ? `  failed attempts ${k(s.failed)}/s` : ''}`
  );
}

export class Progress {
  readonly #tty: boolean;
  readonly #out: NodeJS.WriteStream;
  #lastPlain = -Infinity;
  #live = false;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  second(s: SecondFigures, elapsedSec: number): void {
    const line = progressLine(s, elapsedSec);
    if (this.#tty) {
      this.#out.write(`\r\x1b[2K${line}`);
      this.#live = true;
    } else if (s.second - this.#lastPlain >= PLAIN_EVERY_SEC) {
      this.#out.write(`${line}\n`);
      this.#lastPlain = s.second;
    }
  }

  /** A message of its own (ends the live line first). */
  note(text: string): void {
    if (this.#live) this.#out.write('\n');
    this.#live = false;
    this.#out.write(`${text}\n`);
  }

  end(): void {
    if (this.#live) this.#out.write('\n');
    this.#live = false;
  }
}
