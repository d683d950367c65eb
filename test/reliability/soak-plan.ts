/**
 * What the soak sends: a seeded, reproducible plan of Stripe events and their deliveries, and the
 * end state that plan must leave in the entitlements table.
 */
import { FAMILIES, USERS } from '../local/fixtures.js';

/** One Stripe event of the plan. */
export interface PlannedEvent {
  id: string;
  type: 'checkout.session.completed' | 'invoice.paid' | 'customer.subscription.deleted';
  /** Stripe's `created`: increases along the plan, so a cancellation is newer than its payment. */
  created: number;
  purchaserId: string;
  /** Each payment grants its own entitlement; a cancellation revokes its payment's. */
  entitlement: string;
  /** The family members the event must reach; empty for an unknown purchaser (poisoned). */
  members: readonly string[];
  /** For a payment: the id of the cancellation that follows it. */
  cancelledBy?: string;
  /** Delivered twice by Stripe. */
  duplicate: boolean;
}

/** Everyone in `userId`'s family (the reference contact-service's data); empty for an unknown user. */
function membersOf(userId: string): readonly string[] {
  const user = USERS.get(userId);
  if (!user) return [];
  return (FAMILIES.get(user.familyId) ?? [user]).map((m) => m.id);
}

const pad = (n: number) => String(n).padStart(6, '0');

/**
 * `count` events: mostly family-1 (any of its 3 members paying) and user-solo purchases, family-50
 * (50 members) now and then, a cancellation 5 to 45 events after about 3 % of payments, and about
 * 0.2 % (at least 2) unknown purchasers, all in the first 30 % so their 5 receives are over before
 * the run is.
 */
export function planEvents(count: number, next: () => number): PlannedEvent[] {
  const baseCreated = 1_700_000_000;
  const events: PlannedEvent[] = [];
  const pendingCancels: { at: number; payment: PlannedEvent }[] = [];
  const unknownCount = Math.max(2, Math.round(count * 0.002));
  const unknownAt = new Set(Array.from({ length: unknownCount }, (_, k) => Math.floor(((k + 0.5) * count * 0.3) / unknownCount)));
  while (events.length < count) {
    const n = events.length;
    const unknown = unknownAt.has(n);
    const due = unknown ? -1 : pendingCancels.findIndex((c) => c.at <= n);
    if (due !== -1) {
      const { payment } = pendingCancels.splice(due, 1)[0]!;
      payment.cancelledBy = `evt_soakcancel${pad(n)}`;
      events.push({
        id: payment.cancelledBy,
        type: 'customer.subscription.deleted',
        created: baseCreated + n,
        purchaserId: payment.purchaserId,
        entitlement: payment.entitlement,
        members: payment.members,
        duplicate: next() < 0.03,
      });
      continue;
    }
    const roll = next();
    const purchaserId = unknown
      ? `user-ghost-${n}`
      : roll < 0.006
        ? 'user-50'
        : roll < 0.45
          ? (['user-1', 'user-2', 'user-3'] as const)[Math.floor(next() * 3)]!
          : 'user-solo';
    const payment: PlannedEvent = {
      id: `evt_soak${pad(n)}`,
      type: next() < 0.5 ? 'checkout.session.completed' : 'invoice.paid',
      created: baseCreated + n,
      purchaserId,
      entitlement: `soak-${pad(n)}`,
      members: membersOf(purchaserId),
      // Unknown purchasers are delivered once: the DLQ then holds one message per poisoned event.
      duplicate: !unknown && next() < 0.03,
    };
    events.push(payment);
    if (!unknown && next() < 0.03) pendingCancels.push({ at: events.length + 5 + Math.floor(next() * 40), payment });
  }
  return events;
}

/** The deliveries of `plan`: each event once, and a duplicate again up to 30 deliveries later, as Stripe retries. */
export function planDeliveries(plan: readonly PlannedEvent[], next: () => number): PlannedEvent[] {
  const deliveries: PlannedEvent[] = [];
  const later: { at: number; event: PlannedEvent }[] = [];
  for (const event of plan) {
    deliveries.push(event);
    if (event.duplicate) later.push({ at: deliveries.length + 1 + Math.floor(next() * 30), event });
    for (let i = later.length - 1; i >= 0; i--) {
      if (later[i]!.at <= deliveries.length) deliveries.push(later.splice(i, 1)[0]!.event);
    }
  }
  deliveries.push(...later.map((l) => l.event));
  return deliveries;
}

/**
 * The item each (member, entitlement) must end with, keyed `<member> <entitlement>`: the
 * cancellation's revocation where there is one (it is the newer event), else the payment's grant.
 */
export function expectedEndState(plan: readonly PlannedEvent[]): Map<string, { status: 'granted' | 'revoked'; eventId: string }> {
  const expected = new Map<string, { status: 'granted' | 'revoked'; eventId: string }>();
  for (const event of plan) {
    for (const member of event.members) {
      const key = `${member} ${event.entitlement}`;
      if (event.type === 'customer.subscription.deleted') expected.set(key, { status: 'revoked', eventId: event.id });
      else if (!expected.has(key)) expected.set(key, { status: 'granted', eventId: event.id });
    }
  }
  return expected;
}
