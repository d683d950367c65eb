import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeEventSettingsFrom } from '../../../../../functions/payment-webhook/stripe/stripe-event-settings-source.js';
import { STRIPE_EVENT_SETTINGS_DEFAULTS } from '../../../../../functions/payment-webhook/stripe/stripe-event-settings.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stripe-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(text: string): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  return path;
}

function failure(action: () => unknown): { code: string; message: string } {
  try {
    action();
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

describe('stripeEventSettingsFrom', () => {
  it('answers the defaults when nothing is set: refunds and disputes revoke, past_due keeps until the status changes', () => {
    expect(stripeEventSettingsFrom({})).toEqual(STRIPE_EVENT_SETTINGS_DEFAULTS);
    expect(STRIPE_EVENT_SETTINGS_DEFAULTS).toMatchObject({ revokeOnRefund: true, revokeOnDispute: true, pastDueGraceSeconds: undefined });
  });

  it('reads every setting from the environment', () => {
    expect(
      stripeEventSettingsFrom({
        STRIPE_DEFAULT_ENTITLEMENT: 'basic',
        STRIPE_ENTITLEMENT_MAP: '{"pro_monthly": "pro", "prod_Family": "family_plan"}',
        STRIPE_REVOKE_ON_REFUND: 'false',
        STRIPE_REVOKE_ON_DISPUTE: 'false',
        STRIPE_PAST_DUE_GRACE_SECONDS: '259200',
      }),
    ).toEqual({
      defaultEntitlement: 'basic',
      entitlementMap: { pro_monthly: 'pro', prod_Family: 'family_plan' },
      revokeOnRefund: false,
      revokeOnDispute: false,
      pastDueGraceSeconds: 259_200,
    });
  });

  it('reads the stripe section of CONFIG_FILE; the environment wins, and the maps merge', async () => {
    const path = await configFile(
      'service_mesh:\n  enabled: true\nstripe:\n  entitlement_map: { pro_monthly: pro, prod_Family: family_plan }\n  revoke_on_dispute: false\n  past_due_grace_seconds: 60\n',
    );

    expect(stripeEventSettingsFrom({ CONFIG_FILE: path, STRIPE_ENTITLEMENT_MAP: '{"pro_monthly": "pro_plus"}', STRIPE_PAST_DUE_GRACE_SECONDS: '120' })).toEqual({
      ...STRIPE_EVENT_SETTINGS_DEFAULTS,
      entitlementMap: { pro_monthly: 'pro_plus', prod_Family: 'family_plan' },
      revokeOnDispute: false,
      pastDueGraceSeconds: 120,
    });
  });

  it.each([
    [{ STRIPE_ENTITLEMENT_MAP: 'pro=premium' }, 'STRIPE_ENTITLEMENT_MAP must be a JSON object of lookup_key or product id → entitlement, got "pro=premium"'],
    [{ STRIPE_ENTITLEMENT_MAP: '["pro"]' }, 'STRIPE_ENTITLEMENT_MAP must map stripe price lookup_keys or product ids to entitlements, got ["pro"]'],
    [{ STRIPE_ENTITLEMENT_MAP: '{"pro": "#link"}' }, 'STRIPE_ENTITLEMENT_MAP (key "pro") must be an entitlement name (non-empty, not starting with #), got "#link"'],
    [{ STRIPE_REVOKE_ON_REFUND: 'yes' }, 'STRIPE_REVOKE_ON_REFUND must be true or false, got "yes"'],
    [{ STRIPE_PAST_DUE_GRACE_SECONDS: '3 days' }, 'STRIPE_PAST_DUE_GRACE_SECONDS must be a whole number of seconds, got "3 days"'],
  ])('refuses %j naming the key and the value', (env, message) => {
    expect(failure(() => stripeEventSettingsFrom(env))).toEqual({ code: 'CONFIG_INVALID', message });
  });

  it('refuses an unknown key of the stripe section: a typo must not fall back to a default', async () => {
    const path = await configFile('stripe:\n  revoke_on_refunds: false\n');

    expect(failure(() => stripeEventSettingsFrom({ CONFIG_FILE: path }))).toEqual({
      code: 'CONFIG_INVALID',
      message: `stripe.revoke_on_refunds in ${path} is not a known setting`,
    });
  });
});
