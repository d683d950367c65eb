/**
 * The events driving a run: paid events as the payment webhook queues them, at a steady rate
 * whatever the consumers do (an outage does not slow Stripe down), with a message that is not a
 * command at all every so often (poison, which must still end in the DLQ).
 */
import type { EntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import type { SimulatedSqs } from '../reliability/simulated-sqs.js';

/** A paid event as the webhook queues it; one in ten is a family of three, the rest buy alone. */
export function paidEvent(design: string, n: number, createdMs: number): EntitlementCommand {
  return {
    action: 'grant',
    eventId: `evt_fleet_${design.replace('-', '_')}_${n}`,
    eventType: 'checkout.session.completed',
    eventCreated: Math.floor(createdMs / 1000),
    purchaserId: n % 10 === 0 ? 'user-1' : 'user-solo',
    // One entitlement per event: each (event, member) is its own item, so nothing is superseded
    // and every effect can be counted.
    entitlement: `fleet-${n}`,
  };
}

export class PaidEvents {
  paidSent = 0;
  poisonSent = 0;
  readonly poisonIds = new Set<string>();
  #due = 0;
  #lastAt: number;

  constructor(
    private readonly design: string,
    private readonly queue: SimulatedSqs,
    private readonly options: { eventsPerSecond: number; poisonEvery: number },
    startAt: number,
  ) {
    this.#lastAt = startAt;
  }

  /** Sends what fell due since the last call; returns the ids of the paid events sent. */
  sendDue(now: number): string[] {
    this.#due += ((now - this.#lastAt) / 1000) * this.options.eventsPerSecond;
    this.#lastAt = now;
    const paid: string[] = [];
    for (; this.#due >= 1; this.#due--) {
      const n = this.paidSent + this.poisonSent;
      if (n > 0 && n % this.options.poisonEvery === 0) {
        this.poisonIds.add(this.queue.send('{"action": "grant", not json'));
        this.poisonSent++;
      } else {
        paid.push(this.queue.send(JSON.stringify(paidEvent(this.design, n, now))));
        this.paidSent++;
      }
    }
    return paid;
  }

  /** Poison still on the queue (not yet received `maxReceiveCount` times). */
  poisonQueued(): number {
    return [...this.poisonIds].filter((id) => this.queue.holds(id)).length;
  }
}
