/**
 * The EventBridge schedule of mesh-health (`rate(N minutes)` deployed), faster locally: every
 * `everySeconds` the function gets the event a schedule rule delivers. Like a rate rule, the first
 * run comes one period after the start. A run still going when the next falls due is not doubled.
 */
import { scheduledEvent } from '../default-events.js';
import type { FunctionPool } from './function-pool.js';

export interface ScheduleOptions {
  pool: FunctionPool;
  everySeconds: number;
  region: string;
}

/** Starts the schedule; the returned function stops it (and waits for a run in progress). */
export function startSchedule(options: ScheduleOptions): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= options.pool
      .invoke({ event: scheduledEvent(options.region), trigger: 'schedule', detail: `rate(${options.everySeconds} seconds)` })
      .catch(() => undefined)
      .finally(() => (running = undefined));
  }, options.everySeconds * 1000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
