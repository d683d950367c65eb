/**
 * How the soak knows it kept its promises: a tally of the grant handler's outcomes read from its
 * log lines as they are written, and the checks run once the queue is empty. Each check reports
 * what it found broken through `problem`, so one run lists every broken promise at once.
 */
import type { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { expectedEndState, type PlannedEvent } from './soak-plan.js';
import type { SimulatedSqs } from './simulated-sqs.js';

export type ProblemSink = (problem: string) => void;

/** The grant handler's outcomes per (event, member), and what the mesh layer logged meanwhile. */
export class OutcomeTally {
  /** `<eventId> <member>` → how many times the event took effect for the member. */
  readonly applied = new Map<string, number>();
  /** `<eventId> <member>` pairs that were ever superseded. */
  readonly supersededPairs = new Set<string>();
  duplicates = 0;
  superseded = 0;
  /** Attempts that reached the contact-service and failed UNAVAILABLE (the injected fault, or the outage). */
  unavailableAttempts = 0;
  breakerOpened = 0;

  /** Reads one log line; lines that are not the ones counted are ignored. */
  read(line: string): void {
    if (!line.startsWith('{')) return;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (doc['message'] === 'entitlement event applied') {
      const eventId = String(doc['eventId']);
      for (const member of (doc['applied'] as string[] | undefined) ?? []) {
        const key = `${eventId} ${member}`;
        this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
      }
      this.duplicates += ((doc['duplicate'] as string[] | undefined) ?? []).length;
      for (const member of (doc['superseded'] as string[] | undefined) ?? []) {
        this.superseded++;
        this.supersededPairs.add(`${eventId} ${member}`);
      }
    } else if (doc['message'] === 'mesh call' && doc['code'] === 'UNAVAILABLE' && Number(doc['attempt']) >= 1) {
      this.unavailableAttempts++;
    } else if (doc['message'] === 'circuit breaker state changed' && doc['to'] === 'open') {
      this.breakerOpened++;
    }
  }
}

/** Nothing lost: the queue is empty, and the DLQ holds exactly the poisoned messages, each received 5 times. */
export function checkQueue(queue: SimulatedSqs, poisoned: ReadonlySet<string>, problem: ProblemSink): void {
  if (queue.depth !== 0) problem(`${queue.depth} messages are still on the queue after draining`);
  const dead = new Map(queue.deadLetters.map((m) => [m.messageId, m]));
  for (const [id, message] of dead) {
    if (!poisoned.has(id)) problem(`message ${id} reached the DLQ but was not poisoned: ${message.body}`);
    if (message.receiveCount !== queue.options.maxReceiveCount) problem(`message ${id} reached the DLQ after ${message.receiveCount} receives`);
  }
  for (const id of poisoned) if (!dead.has(id)) problem(`poisoned message ${id} did not reach the DLQ`);
}

/** What {@link checkExactlyOnce} counted. */
export interface ExactlyOnceCounts {
  /** Σ members over every event of a known purchaser: the (event, member) pairs. */
  memberEvents: number;
  grantsApplied: number;
  revokesApplied: number;
  /** Pairs of a payment whose cancellation took effect first: superseded, rightly never applied. */
  overtakenByCancellation: number;
}

/**
 * Exactly once: every (event, member) took effect once, except a payment whose cancellation took
 * effect first, which is superseded instead; nothing ever took effect twice, and nothing that was
 * not planned took effect at all. So applied + overtaken = members × events.
 */
export function checkExactlyOnce(plan: readonly PlannedEvent[], tally: OutcomeTally, problem: ProblemSink): ExactlyOnceCounts {
  const counts: ExactlyOnceCounts = { memberEvents: 0, grantsApplied: 0, revokesApplied: 0, overtakenByCancellation: 0 };
  for (const event of plan) {
    for (const member of event.members) {
      const key = `${event.id} ${member}`;
      const times = tally.applied.get(key) ?? 0;
      counts.memberEvents++;
      if (event.type === 'customer.subscription.deleted') counts.revokesApplied += times;
      else counts.grantsApplied += times;
      if (times > 1) problem(`${event.id} took effect ${times} times for ${member}`);
      else if (times === 0 && event.cancelledBy !== undefined && tally.supersededPairs.has(key)) counts.overtakenByCancellation++;
      else if (times === 0) problem(`${event.id} never took effect for ${member}`);
    }
  }
  const planned = new Set(plan.flatMap((e) => e.members.map((m) => `${e.id} ${m}`)));
  for (const key of tally.applied.keys()) if (!planned.has(key)) problem(`${key} took effect but was never planned`);
  if (counts.grantsApplied + counts.revokesApplied + counts.overtakenByCancellation !== counts.memberEvents) {
    problem(`applied (${counts.grantsApplied} + ${counts.revokesApplied}) + overtaken (${counts.overtakenByCancellation}) is not members × events (${counts.memberEvents})`);
  }
  return counts;
}

/**
 * The end state in DynamoDB: every member's item of every planned entitlement carries the latest
 * event (status and id), and no `soak-` item exists that no event granted (unknown purchasers
 * included). Returns how many items were read.
 */
export async function checkEndState(plan: readonly PlannedEvent[], store: EntitlementStore, problem: ProblemSink): Promise<number> {
  const expected = expectedEndState(plan);
  const users = new Set([...plan.flatMap((e) => e.members), ...plan.filter((e) => e.members.length === 0).map((e) => e.purchaserId)]);
  const found = new Map<string, { status: string; eventId: string }>();
  for (const userId of users) {
    for (const entitlement of await store.list(userId)) {
      if (entitlement.name.startsWith('soak-')) found.set(`${userId} ${entitlement.name}`, { status: entitlement.status, eventId: entitlement.eventId });
    }
  }
  for (const [key, want] of expected) {
    const got = found.get(key);
    if (!got) problem(`${key} is missing from DynamoDB (want ${want.status} by ${want.eventId})`);
    else if (got.status !== want.status || got.eventId !== want.eventId) {
      problem(`${key} is ${got.status} by ${got.eventId}, want ${want.status} by ${want.eventId}`);
    }
  }
  for (const key of found.keys()) if (!expected.has(key)) problem(`${key} is in DynamoDB but no event granted it`);
  return found.size;
}
