/**
 * Keeps Powertools' output off the benchmark's terminal without taking its cost away: Logger and
 * Metrics write each line through `process.stdout.write` / `process.stderr.write` (their own
 * `Console` over the streams), so those are pointed at /dev/null with a synchronous write, the way
 * Lambda's stdout is a pipe every line still has to cross. The serialisation, the scrubbing and
 * the write system call all stay in the measured time; only the terminal is spared.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface QuietOutput {
  /** Lines written since {@link quietOutput} (stdout and stderr together). */
  readonly lines: number;
  /** The original stdout, for the benchmark's own output. */
  print(text: string): void;
  restore(): void;
}

/** Sends stdout and stderr to /dev/null until `restore()`. */
export function quietOutput(): QuietOutput {
  const devNull = openSync('/dev/null', 'w');
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  let lines = 0;
  const sink = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    writeSync(devNull, text);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  process.stdout.write = sink as typeof process.stdout.write;
  process.stderr.write = sink as typeof process.stderr.write;
  return {
    get lines() {
      return lines;
    },
    print: (text) => void stdoutWrite(text),
    restore() {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      closeSync(devNull);
    },
  };
}
