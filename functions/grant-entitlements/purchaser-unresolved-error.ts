import { MeshError } from '../../shared/errors.js';

/**
 * An event names no user, and none of its Stripe objects is linked to one yet: Stripe delivers in
 * no guaranteed order, so the event that links them may still come. The record fails and SQS
 * redelivers it; after the queue's last receive it reaches the DLQ with this code logged.
 */
export class PurchaserUnresolvedError extends MeshError<'GRANT_PURCHASER_UNRESOLVED'> {
  readonly eventId: string;
  readonly stripeRefs: readonly string[];

  constructor(eventId: string, stripeRefs: readonly string[], options?: ErrorOptions) {
    super(
      'GRANT_PURCHASER_UNRESOLVED',
      stripeRefs.length === 0
        ? `event ${eventId} names no user and no stripe object a user could be linked through`
        : `event ${eventId} names no user, and none of its stripe objects (${stripeRefs.join(', ')}) is linked to one yet`,
      options,
    );
    this.eventId = eventId;
    this.stripeRefs = stripeRefs;
  }
}
