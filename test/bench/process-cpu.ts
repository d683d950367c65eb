/** Another process's CPU time, from Linux's `/proc/<pid>/stat`. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`), 100 on Linux builds. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * User plus system CPU milliseconds `pid` has used so far (10 ms resolution); `NaN` where
 * `/proc` is not available.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
