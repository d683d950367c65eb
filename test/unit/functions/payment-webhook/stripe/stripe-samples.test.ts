/**
 * The sample events under test/fixtures/events/stripe/, newest and 2023-10-16 shapes, through the
 * payment webhook's parsing and rules: each queues what README's table says.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EntitlementCommand } from '../../../../../functions/payment-webhook/entitlement-command.js';
import { entitlementCommandFor, parseStripeEvent } from '../../../../../functions/payment-webhook/payment-event.js';

const SAMPLES = fileURLToPath(new URL('../../../../fixtures/events/stripe/', import.meta.url));
const CUS = 'cus_PfUser0001';
const SUB = 'sub_PfSub0001';

async function commandOf(shape: string, name: string) {
  const { envelope, json } = parseStripeEvent(await readFile(join(SAMPLES, shape, `${name}.json`)));
  return entitlementCommandFor(envelope, json);
}

// What each sample queues, in both shapes: [file, action, purchaser named, stripe refs, entitlement].
const EXPECTED: [string, string | undefined, string | undefined, string[] | undefined, string | undefined][] = [
  ['checkout.session.completed', 'grant', 'user-1', [SUB, CUS], 'premium_features'],
  ['customer.subscription.created', 'grant', 'user-1', [SUB, CUS], 'premium_features'],
  ['invoice.paid', 'grant', 'user-1', [SUB, CUS], 'premium_features'],
  ['invoice.payment_failed', 'link', 'user-1', [SUB, CUS], undefined],
  ['customer.subscription.updated.past-due', 'link', 'user-1', [SUB, CUS], undefined],
  ['customer.subscription.updated.unpaid', 'revoke', 'user-1', [SUB, CUS], 'premium_features'],
  ['customer.subscription.updated.active', 'grant', 'user-1', [SUB, CUS], 'premium_features'],
  ['charge.refunded.partial', undefined, undefined, undefined, undefined],
  ['charge.refunded', 'revoke', undefined, [CUS, 'pi_PfPayment0002', 'ch_PfCharge0002'], 'premium_features'],
  ['checkout.session.async_payment_failed', 'link', 'user-1', [CUS, 'pi_PfOneOff0002'], undefined],
  ['checkout.session.async_payment_succeeded', 'grant', 'user-1', [CUS, 'pi_PfOneOff0001'], 'family_storage'],
  ['charge.dispute.created', 'revoke', undefined, ['pi_PfOneOff0001', 'ch_PfOneOff0003'], 'family_storage'],
  ['entitlements.active_entitlement_summary.updated', 'sync', undefined, [CUS], undefined],
  ['customer.subscription.deleted', 'revoke', 'user-1', [SUB, CUS], 'premium_features'],
];

describe.each(['latest', '2023-10-16'])('the %s sample events', (shape) => {
  it.each(EXPECTED)('%s queues %s', async (name, action, purchaserId, stripeRefs, entitlement) => {
    const command = await commandOf(shape, name);

    if (action === undefined) {
      expect(command).toBeUndefined();
      return;
    }
    // The 2023-10-16 invoice still names its payment intent and charge: linked as well.
    const refs = shape === '2023-10-16' && name === 'invoice.paid' ? [...stripeRefs!, 'pi_PfPayment0001', 'ch_PfCharge0001']
      : shape === '2023-10-16' && name === 'invoice.payment_failed' ? [...stripeRefs!, 'pi_PfPayment0001'] : stripeRefs;
    const expected = Object.fromEntries(Object.entries({ action, purchaserId, stripeRefs: refs, entitlement }).filter(([, v]) => v !== undefined));
    expect(command).toEqual(expect.objectContaining(expected));
    if (purchaserId === undefined) expect(command).not.toHaveProperty('purchaserId');
    if (entitlement === undefined) expect(command).not.toHaveProperty('entitlement');
    expect(EntitlementCommand.parse(command)).toEqual(command);
  });

  it('an entitlement summary lists its features', async () => {
    expect((await commandOf(shape, 'entitlements.active_entitlement_summary.updated'))?.entitlements).toEqual(['priority_support', 'premium_features']);
  });
});

describe('the invoice, where the two shapes differ', () => {
  it('carries the subscription and its metadata under parent.subscription_details in the newest shape only', async () => {
    const latest = JSON.parse(await readFile(join(SAMPLES, 'latest', 'invoice.paid.json'), 'utf8'));
    const old = JSON.parse(await readFile(join(SAMPLES, '2023-10-16', 'invoice.paid.json'), 'utf8'));

    expect(latest.data.object.parent.subscription_details).toEqual({ metadata: { user_id: 'user-1' }, subscription: SUB });
    expect(latest.data.object).not.toHaveProperty('subscription_details');
    expect(latest.data.object).not.toHaveProperty('subscription');
    expect(old.data.object.subscription_details).toEqual({ metadata: { user_id: 'user-1' } });
    expect(old.data.object.subscription).toBe(SUB);
    expect(old.data.object).not.toHaveProperty('parent');
  });
});

describe('an entitlement summary with more pages than the event carries', () => {
  it('is queued as a partial sync, which grants what it lists and revokes nothing', async () => {
    const event = JSON.parse(await readFile(join(SAMPLES, 'latest', 'entitlements.active_entitlement_summary.updated.json'), 'utf8'));
    event.data.object.entitlements.has_more = true;
    const { envelope, json } = parseStripeEvent(Buffer.from(JSON.stringify(event)));

    expect(entitlementCommandFor(envelope, json)).toMatchObject({ action: 'sync', entitlements: ['priority_support', 'premium_features'], entitlementsComplete: false });
  });
});
