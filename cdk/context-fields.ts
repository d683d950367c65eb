import { stripeEventSettingsFrom } from '../functions/payment-webhook/stripe/stripe-event-settings-source.js';
import { parseSpiffeId } from '../shared/spiffe/spiffe-id.js';

/**
 * Readers of CDK context values. A value comes typed from `cdk.json` (`5`, `["a","b"]`, `true`)
 * or as a string from `cdk synth -c key=value`, so every reader takes both. Each states its rule
 * once; the caller prefixes the key and appends the value: `context vpcId must be a vpc id, got "x"`.
 */

/** The rule a context value broke. */
export class BrokenRule {
  constructor(readonly rule: string) {}
}

/** Reads one raw context value into `T`, or says which rule it broke. */
export type ContextField<T> = (raw: unknown) => T | BrokenRule;

/** A string matching `pattern`; `rule` says what it must be. */
export function text(pattern: RegExp, rule: string): ContextField<string> {
  return (raw) => (typeof raw === 'string' && pattern.test(raw.trim()) ? raw.trim() : new BrokenRule(`must be ${rule}`));
}

/** An integer in `[min, max]`, given as a number or as its decimal digits. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): ContextField<number> {
  const rule = new BrokenRule(`must be an integer from ${min} to ${max}`);
  return (raw) => {
    const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : rule;
  };
}

/** One of `values`, e.g. a log retention CloudWatch accepts. */
export function oneOf<T extends string | number>(values: readonly T[]): ContextField<T> {
  const rule = new BrokenRule(`must be one of ${values.join(', ')}`);
  return (raw) => {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    return values.find((allowed) => allowed === value || String(allowed) === value) ?? rule;
  };
}

export const bool: ContextField<boolean> = (raw) => {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  return new BrokenRule('must be true or false');
};

/** A non-empty list of strings matching `pattern`: a JSON array, or `a,b` on the command line. */
export function list(pattern: RegExp, rule: string): ContextField<string[]> {
  const broken = new BrokenRule(`must be a non-empty list of ${rule} (a JSON array, or comma-separated)`);
  return (raw) => {
    const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
    if (items === undefined) return broken;
    const values = items.map((item) => (typeof item === 'string' ? item.trim() : item));
    return values.length > 0 && values.every((v) => typeof v === 'string' && pattern.test(v)) ? (values as string[]) : broken;
  };
}

/** An ARN of `service` (`arn:<partition>:<service>:<region>:<account>:<resource>`). */
export function arn(service: string): ContextField<string> {
  return text(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`), `an arn of ${service} (arn:aws:${service}:<region>:<account>:…)`);
}

/** A SPIFFE ID, checked by the same parser the functions use at init. */
export const spiffeId: ContextField<string> = (raw) => {
  if (typeof raw !== 'string') return new BrokenRule('must be a SPIFFE ID');
  try {
    return parseSpiffeId(raw.trim()).toString();
  } catch (error) {
    return new BrokenRule(`must be a SPIFFE ID (${(error as Error).message.replace(/: ".*"$/s, '')})`);
  }
};

/** `<value>` as messages quote it. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * A Stripe price `lookup_key` or product id → entitlement map, as an object (`cdk.json`) or its
 * JSON text (`-c`), checked by the very reader payment-webhook uses; answered as JSON text, the
 * value of `STRIPE_ENTITLEMENT_MAP`.
 */
export const stripeEntitlementMap: ContextField<string> = (raw) => {
  const json = typeof raw === 'string' ? raw.trim() : JSON.stringify(raw);
  try {
    stripeEventSettingsFrom({ STRIPE_ENTITLEMENT_MAP: json });
  } catch {
    return new BrokenRule('must map stripe price lookup_keys or product ids to entitlement names (a JSON object)');
  }
  return json;
};
