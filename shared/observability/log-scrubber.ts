/**
 * The last line of defence between a log call and stdout: redacts key material, secrets and
 * signatures from whatever a caller logs. Callers should never log them in the first place; this
 * exists because an error message, a `cause` or an event dump can carry one without anyone noticing.
 */

/** What replaces a redacted value; says why without echoing any of it. */
export const REDACTED = '[REDACTED]';

/**
 * Key names (lowercased, punctuation removed) whose value is never logged, whatever its type:
 * `privateKey`, `x509SVIDKey`, `webhookSecret`, `stripe-signature`, `Authorization`, …
 */
const SENSITIVE_KEY = /privatekey|svidkey|secret|signature|authorization|password|passphrase|apikey|accesskey|token|cookie|credential/;

/** Keys that name a secret rather than hold it (`secretId`, `SVID_SECRET_ID`, `secretArn`): useful in an error. */
const IDENTIFIER_SUFFIX = /(?:id|ids|arn|name)$/;

/** Key verdicts are cached: a process logs the same few dozen keys over and over. Bounded against odd callers. */
const keyVerdicts = new Map<string, boolean>();
const MAX_CACHED_KEYS = 1024;

/** Returns true when a property named `key` must have its value redacted. */
export function isSensitiveKey(key: string): boolean {
  const cached = keyVerdicts.get(key);
  if (cached !== undefined) return cached;
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  const verdict = SENSITIVE_KEY.test(normalized) && !IDENTIFIER_SUFFIX.test(normalized);
  if (keyVerdicts.size < MAX_CACHED_KEYS) keyVerdicts.set(key, verdict);
  return verdict;
}

/**
 * A cheap first look: most strings (messages, IDs, codes) match none of these and skip the rules.
 * Every rule below starts with one of these markers.
 */
const SUSPICIOUS = /-----|whsec_|v\d+=|[sr]k_(?:live|test)_|bearer |eyJ|":|[A-Za-z0-9+/]{48}/i;

/** Text rules, applied in order. Each names what it removed so a reader knows why a value is missing. */
const TEXT_RULES: ReadonlyArray<readonly [RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // A whole PEM block (key, certificate, bundle), also when truncated before its END line (a
  // JSON.parse error quotes only the start of the text) or with escaped newlines.
  [/-----BEGIN[^-]*-----[\s\S]*?(?:-----END[^-]*-----|$)/g, '[REDACTED PEM]'],
  // The tail of a block whose head was cut off.
  [/-----END[^-]*-----/g, '[REDACTED PEM]'],
  // Stripe webhook signing secrets.
  [/whsec_[A-Za-z0-9+/=_-]*/g, '[REDACTED WEBHOOK SECRET]'],
  // A Stripe-Signature header value (`t=1614556800,v1=5257a8…,v0=…`), then any stray scheme value.
  [/\bt=\d+(?:\s*,\s*v\d+=[^,\s"]*)+/g, '[REDACTED SIGNATURE]'],
  [/v(\d+)=[0-9a-fA-F]+/g, (_match, scheme) => `v${scheme}=${REDACTED}`],
  // Stripe secret and restricted API keys.
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]+/g, '[REDACTED API KEY]'],
  // A bearer token (an Authorization header quoted in an error); eight characters, so prose
  // ("bearer tokens are…") is left alone.
  [/\b(bearer) +[A-Za-z0-9._~+/-]{8,}=*/gi, (_match, scheme) => `${scheme} ${REDACTED}`],
  // A JWS in the compact serialization (a JWT-SVID quoted without its scheme): its base64url
  // header always starts with `eyJ`, the encoding of `{"`.
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[REDACTED JWT]'],
  // JSON text inside a string (`{"x509SVIDKey":"…"}` in a parse error): redact sensitive keys' values.
  [/"([^"\\]{1,64})"(\s*:\s*)"(?:[^"\\]|\\.)*"/g, (match, key, colon) => (isSensitiveKey(key) ? `"${key}"${colon}"${REDACTED}"` : match)],
  // Long base64 runs: a PEM body line (64 characters) or DER without its armour. Pure hex is left
  // alone: fingerprints and serial numbers are useful, and Stripe's hex signatures are caught above.
  [/[A-Za-z0-9+/]{48,}={0,2}/g, (match) => (/^[0-9a-fA-F]+$/.test(match) ? match : '[REDACTED BASE64]')],
];

/** Returns `text` with every PEM block, secret, signature and credential replaced by a marker. */
export function scrubText(text: string): string {
  if (!SUSPICIOUS.test(text)) return text;
  let scrubbed = text;
  for (const [pattern, replacement] of TEXT_RULES) {
    scrubbed = scrubbed.replace(pattern, replacement as (match: string, ...groups: string[]) => string);
  }
  return scrubbed;
}

/**
 * Scrubs one property of a value being serialised (a `JSON.stringify` replacer step): a sensitive
 * key's value is replaced whole, strings are scrubbed, binary data is never written out, and
 * everything else passes through for `JSON.stringify` to descend into.
 */
export function scrubLogValue(key: string, value: unknown): unknown {
  if (key !== '' && isSensitiveKey(key)) return REDACTED;
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null) return value;
  // A Uint8Array would print byte by byte; a Buffer reaches the replacer already as {type, data}.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`;
  const buffer = value as { type?: unknown; data?: unknown };
  if (buffer.type === 'Buffer' && Array.isArray(buffer.data)) return `[binary ${buffer.data.length} bytes]`;
  return value;
}
