/**
 * Taps what the functions write to stdout and stderr, line by line, without vitest (the soak runs
 * as a plain script too). Powertools' Logger and Metrics write through `process.stdout.write` /
 * `process.stderr.write` (see test/fixtures/capture-output.ts), so those are what is replaced.
 */
import { auditLogLines } from '../fixtures/log-audit.js';

export interface LogTap {
  /** Every line so far, when `keep` was set; empty otherwise. */
  readonly lines: string[];
  /** How many lines were written. */
  readonly count: number;
  /** The lines that leak something (see `auditLogLines`), at most `maxFindings` of them. */
  readonly leaks: { line: string; findings: string[] }[];
  /** The lines parsed as JSON, when `keep` was set (non-JSON lines are skipped). */
  json(): Record<string, unknown>[];
  /** Writes to the real stdout, bypassing the tap. */
  print(text: string): void;
  /** Puts the real streams back; further output is no longer seen. */
  restore(): void;
}

export interface LogTapOptions {
  /** Keep every line in memory (tests); a long soak only streams them to `onLine`. */
  keep: boolean;
  /** Called with each line as it is written. */
  onLine?: (line: string) => void;
  maxFindings: number;
}

export const LOG_TAP_DEFAULTS: LogTapOptions = { keep: true, maxFindings: 20 };

/** Starts tapping stdout and stderr; every line is audited for leaked secrets as it goes. */
export function tapOutput(opts: Partial<LogTapOptions> = {}): LogTap {
  const options = { ...LOG_TAP_DEFAULTS, ...opts };
  const lines: string[] = [];
  const leaks: { line: string; findings: string[] }[] = [];
  let count = 0;
  const realStdout = process.stdout.write;
  const realStderr = process.stderr.write;
  let pending = '';

  const take = (line: string): void => {
    if (line === '') return;
    count++;
    if (options.keep) lines.push(line);
    if (leaks.length < options.maxFindings) leaks.push(...auditLogLines([line]));
    options.onLine?.(line);
  };
  const collect = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = pending + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const parts = text.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) take(line);
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    callback?.();
    return true;
  };
  process.stdout.write = collect as typeof process.stdout.write;
  process.stderr.write = collect as typeof process.stderr.write;

  return {
    lines,
    get count() {
      return count;
    },
    leaks,
    json: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    print: (text) => {
      realStdout.call(process.stdout, text);
    },
    restore: () => {
      if (pending !== '') take(pending);
      pending = '';
      process.stdout.write = realStdout;
      process.stderr.write = realStderr;
    },
  };
}
