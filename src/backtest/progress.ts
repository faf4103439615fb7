/** A progress bar on stderr, redrawn at most every 100 ms; only when stderr is a terminal. */
export interface Progress {
  update(done: number): void;
  done(): void;
}

const NONE: Progress = { update: () => undefined, done: () => undefined };

export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) return NONE;
  const started = Date.now();
  let last = 0;
  const draw = (done: number) => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 40));
    const f = Math.min(1, done / total);
    const filled = Math.round(f * width);
    const secs = (Date.now() - started) / 1000;
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${secs.toFixed(1)}s`);
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(done);
    },
    done() {
      draw(total);
      stream.write('\n');
    },
  };
}
