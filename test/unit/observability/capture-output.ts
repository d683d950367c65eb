// Captures what Powertools writes. Logger and Metrics each build their own `Console` over
// `process.stdout` / `process.stderr` (INFO and EMF to stdout, WARN and ERROR to stderr) unless
// POWERTOOLS_DEV is set, so the streams' `write` is what a test intercepts, not `console.*`.
import { vi } from 'vitest';

/** One EMF document as CloudWatch reads it. */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** One structured log line. */
export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface CapturedOutput {
  /** Every line written to stdout or stderr, in order, raw. */
  readonly lines: string[];
  /** Every line parsed as JSON; throws if a line is not JSON (everything Powertools writes is). */
  json(): Record<string, unknown>[];
  /** The EMF documents among the lines. */
  emf(): EmfDocument[];
  /** The log lines (everything that is not EMF). */
  logs(): LogLine[];
  /** Puts the real streams back. */
  restore(): void;
}

/** Starts capturing stdout and stderr; call `restore()` (or `vi.restoreAllMocks()`) when done. */
export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const collect = (chunk: string | Uint8Array): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(collect as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(collect as typeof process.stderr.write);
  const json = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    lines,
    json,
    emf: () => json().filter((doc) => '_aws' in doc) as unknown as EmfDocument[],
    logs: () => json().filter((doc) => !('_aws' in doc)) as unknown as LogLine[],
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}

/** The value of `metric` in an EMF document, always as an array. */
export function valuesOf(doc: EmfDocument, metric: string): number[] {
  const value = doc[metric];
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as number[]) : [value as number];
}
