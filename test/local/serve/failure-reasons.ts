/**
 * Why each queue record last failed (`<code>: <message>`), by message id, kept in a JSON file
 * beside the queue so a dead letter's reason is still known after a restart.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FailureReason {
  reason: string;
  receiveCount: number;
  at: string;
}

/** How many reasons are kept; the oldest go first. */
const LIMIT = 1000;

export class FailureReasons {
  readonly #file: string;
  readonly #reasons: Map<string, FailureReason>;

  constructor(file: string) {
    this.#file = file;
    let stored: Record<string, FailureReason> = {};
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, FailureReason>;
    } catch {
      // None yet (or unreadable): start empty.
    }
    this.#reasons = new Map(Object.entries(stored));
  }

  get(messageId: string): FailureReason | undefined {
    return this.#reasons.get(messageId);
  }

  record(messageId: string, reason: string, receiveCount: number): void {
    this.#reasons.delete(messageId);
    this.#reasons.set(messageId, { reason, receiveCount, at: new Date().toISOString() });
    while (this.#reasons.size > LIMIT) this.#reasons.delete(this.#reasons.keys().next().value!);
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, JSON.stringify(Object.fromEntries(this.#reasons), null, 2));
  }
}
