/**
 * What serve prints: each invocation's start and end (function, trigger, cold or warm, duration,
 * result) and the lines the function wrote, rendered for people on a terminal
 * (`log-rendering.ts`) or as raw JSON lines when piped. Lines below `level` are left out on a
 * terminal (the console shows them all); piped output carries every line.
 */
import { renderLogLine, type LogFormat } from '../log-rendering.js';
import type { InvocationHistory, InvocationRecord } from './invocation-history.js';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type TerminalLevel = (typeof LEVELS)[number];

export interface TerminalReportOptions {
  format: LogFormat;
  level: TerminalLevel;
  write(text: string): void;
}

const rank = (level: string) => {
  const at = LEVELS.indexOf(level.toUpperCase() as TerminalLevel);
  return at < 0 ? LEVELS.indexOf('INFO') : at;
};
const paint = (on: boolean, code: string, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
const duration = (ms: number | undefined) => (ms === undefined ? '' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

/** The end of an invocation in one line: `payment-webhook 200 in 35 ms (warm)`. */
export function invocationLine(record: InvocationRecord): string {
  const start = record.cold ? `cold, init ${duration(record.initMs)}` : 'warm';
  return `${record.functionName} ${record.trigger} ${record.detail}: ${record.summary ?? ''} in ${duration(record.durationMs)} (${start})`;
}

/** Prints what `history` hears, until the returned function is called. */
export function reportToTerminal(history: InvocationHistory, options: TerminalReportOptions): () => void {
  const pretty = options.format === 'pretty';
  return history.listen(({ kind, record, entry }) => {
    if (!pretty) {
      if (kind === 'log') options.write(`${entry!.line}\n`);
      else if (kind === 'ended') {
        const { logs: _logs, result: _result, ...summary } = record;
        options.write(`${JSON.stringify({ serve: 'invocation', ...summary })}\n`);
      }
      return;
    }
    if (kind === 'started') {
      options.write(`${paint(true, '90', `${new Date().toISOString().slice(11, 23)} ▶`)} ${paint(true, '1', record.functionName)} ${record.trigger} ${record.detail} ${paint(true, record.cold ? '33' : '32', record.cold ? 'cold' : 'warm')}\n`);
    } else if (kind === 'log') {
      const json = entry!.json;
      const level = json ? (json._aws !== undefined ? 'DEBUG' : String(json.level ?? 'INFO')) : 'INFO';
      if (rank(level) >= rank(options.level)) options.write(`  ${renderLogLine(entry!.line, { colour: true, functionName: record.functionName })}\n`);
    } else {
      const ok = record.state === 'succeeded' && !/^5\d\d$/.test(record.summary ?? '');
      const colour = !ok ? '31' : /^4\d\d$/.test(record.summary ?? '') ? '33' : '32';
      options.write(`${paint(true, '90', `${new Date().toISOString().slice(11, 23)} ${ok ? '✔' : '✘'}`)} ${paint(true, colour, invocationLine(record))}\n`);
    }
  });
}
