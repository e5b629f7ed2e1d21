/**
 * Timing: tinybench with warm-up, samples kept, so that a row's median, p10 and p90 come from
 * every sample of every round. A group's cases are measured round-robin (interleaved), so slow
 * drift of this host (runs differ by up to 2x) moves a row and its baselines together.
 */
import { Bench } from 'tinybench';

export interface Timing { medianMs: number; p10Ms: number; p90Ms: number; samples: number }

/** The samples (ms) of one round of `fn`: about `timeMs` of calls after a short warm-up. */
export async function timeRound(name: string, fn: () => unknown, timeMs: number, iterations = 3): Promise<number[]> {
  const bench = new Bench({
    time: timeMs, iterations, warmup: true, warmupTime: Math.min(50, timeMs / 4), warmupIterations: 1,
    retainSamples: true, throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`${name}: ${r.state === 'errored' ? r.error.message : r.state}`);
  const samples = r.latency.samples;
  if (!samples || samples.length === 0) throw new Error(`${name}: tinybench kept no samples`);
  return Array.from(samples);
}

/** Linear-interpolated quantile q of sorted samples. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  return { medianMs: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9), samples: s.length };
}

/**
 * One status line on stderr: rewritten in place on a TTY (suite, case, done / total, ETA), one
 * plain line per case otherwise (logs, CI).
 */
export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private readonly tty = process.stderr.isTTY === true;
  constructor(private readonly total: number, private readonly quiet: boolean) {}

  step(suite: string, label: string): void {
    if (this.quiet) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = this.done > 0 ? elapsed / this.done * (this.total - this.done) : NaN;
    const pct = Math.floor(this.done / Math.max(1, this.total) * 100);
    const line = `[${this.done + 1}/${this.total} ${pct}% ${fmtDuration(elapsed)}${Number.isFinite(eta) ? `, ETA ${fmtDuration(eta)}` : ''}] ${suite}: ${label}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    else process.stderr.write(line + '\n');
  }

  finish(): void { this.done++; }

  /** A passing status (a yardstick being measured): rewritten in place on a TTY. */
  status(msg: string): void {
    if (this.quiet) return;
    process.stderr.write(this.tty ? `\r\x1b[K${msg.slice(0, (process.stderr.columns || 100) - 1)}` : msg + '\n');
  }

  /** A message between progress lines (clears the TTY line first). */
  note(msg: string): void {
    if (this.quiet) return;
    process.stderr.write(this.tty ? `\r\x1b[K${msg}\n` : msg + '\n');
  }

  end(): void {
    if (!this.quiet && this.tty) process.stderr.write('\r\x1b[K');
  }
}

export function fmtDuration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}
