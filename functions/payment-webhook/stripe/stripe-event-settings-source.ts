import { readYaml } from '../../../shared/config/yaml-source.js';
import { ConfigError } from '../../../shared/errors.js';
import { EntitlementName } from '../entitlement-command.js';
import { STRIPE_EVENT_SETTINGS_DEFAULTS, type StripeEventSettings } from './stripe-event-settings.js';

/** Environment variable → key of the `stripe:` section of `CONFIG_FILE`. */
const KEYS = {
  STRIPE_DEFAULT_ENTITLEMENT: 'default_entitlement',
  STRIPE_ENTITLEMENT_MAP: 'entitlement_map',
  STRIPE_REVOKE_ON_REFUND: 'revoke_on_refund',
  STRIPE_REVOKE_ON_DISPUTE: 'revoke_on_dispute',
  STRIPE_PAST_DUE_GRACE_SECONDS: 'past_due_grace_seconds',
} as const;
const FILE_KEYS: ReadonlySet<string> = new Set(Object.values(KEYS));

type Origin = string;

/**
 * payment-webhook's Stripe event settings: the `stripe:` section of `CONFIG_FILE` (when set), then
 * the environment, which wins; the map's entries merge, the environment's winning per key.
 *
 * ```yaml
 * stripe:
 *   default_entitlement: premium_features
 *   entitlement_map: { pro_monthly: premium_features, prod_Family: family_plan }
 *   revoke_on_refund: true
 *   revoke_on_dispute: true
 *   past_due_grace_seconds: 259200
 * ```
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the key, where it came from and the value; the
 *   file's own errors (`CONFIG_FILE_UNREADABLE`, `CONFIG_FILE_UNSUPPORTED`).
 */
export function stripeEventSettingsFrom(env: NodeJS.ProcessEnv): StripeEventSettings {
  const configFile = env['CONFIG_FILE']?.trim();
  const file = configFile ? stripeSection(configFile) : {};
  const read = (name: keyof typeof KEYS): { value: unknown; origin: Origin } | undefined => {
    const fromEnv = env[name]?.trim();
    if (fromEnv) return { value: fromEnv, origin: name };
    const key = KEYS[name];
    return Object.hasOwn(file, key) && file[key] !== null ? { value: file[key], origin: `stripe.${key} in ${configFile}` } : undefined;
  };

  const settings: StripeEventSettings = { ...STRIPE_EVENT_SETTINGS_DEFAULTS };
  const defaultEntitlement = read('STRIPE_DEFAULT_ENTITLEMENT');
  if (defaultEntitlement) settings.defaultEntitlement = entitlementName(defaultEntitlement.value, defaultEntitlement.origin);
  const refund = read('STRIPE_REVOKE_ON_REFUND');
  if (refund) settings.revokeOnRefund = boolean(refund.value, refund.origin);
  const dispute = read('STRIPE_REVOKE_ON_DISPUTE');
  if (dispute) settings.revokeOnDispute = boolean(dispute.value, dispute.origin);
  const grace = read('STRIPE_PAST_DUE_GRACE_SECONDS');
  if (grace) settings.pastDueGraceSeconds = seconds(grace.value, grace.origin);

  const fileMap = Object.hasOwn(file, KEYS.STRIPE_ENTITLEMENT_MAP) ? file[KEYS.STRIPE_ENTITLEMENT_MAP] : undefined;
  const envMap = env['STRIPE_ENTITLEMENT_MAP']?.trim();
  settings.entitlementMap = {
    ...(fileMap == null ? {} : entitlementMap(fileMap, `stripe.${KEYS.STRIPE_ENTITLEMENT_MAP} in ${configFile}`)),
    ...(envMap ? entitlementMap(parseJson(envMap, 'STRIPE_ENTITLEMENT_MAP'), 'STRIPE_ENTITLEMENT_MAP') : {}),
  };
  return settings;
}

function stripeSection(path: string): Record<string, unknown> {
  const section = readYaml(path)['stripe'];
  if (section === undefined || section === null) return {};
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new ConfigError('CONFIG_INVALID', `stripe in ${path} must be a mapping, got ${JSON.stringify(section)}`);
  }
  for (const key of Object.keys(section)) {
    // A typo must not silently fall back to a default.
    if (!FILE_KEYS.has(key)) throw new ConfigError('CONFIG_INVALID', `stripe.${key} in ${path} is not a known setting`);
  }
  return section as Record<string, unknown>;
}

function parseJson(text: string, origin: Origin): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `${origin} must be a JSON object of lookup_key or product id → entitlement, got ${JSON.stringify(text)}`, { cause });
  }
}

function entitlementMap(value: unknown, origin: Origin): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('CONFIG_INVALID', `${origin} must map stripe price lookup_keys or product ids to entitlements, got ${JSON.stringify(value)}`);
  }
  const map: Record<string, string> = {};
  for (const [key, name] of Object.entries(value)) map[key] = entitlementName(name, `${origin} (key ${JSON.stringify(key)})`);
  return map;
}

function entitlementName(value: unknown, origin: Origin): string {
  const parsed = EntitlementName.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError('CONFIG_INVALID', `${origin} must be an entitlement name (non-empty, not starting with #), got ${JSON.stringify(value)}`);
  }
  return parsed.data;
}

function boolean(value: unknown, origin: Origin): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError('CONFIG_INVALID', `${origin} must be true or false, got ${JSON.stringify(value)}`);
}

function seconds(value: unknown, origin: Origin): number {
  const text = String(value);
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new ConfigError('CONFIG_INVALID', `${origin} must be a whole number of seconds, got ${JSON.stringify(value)}`);
  }
  return number;
}
