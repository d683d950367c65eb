/**
 * Property-based tests (fast-check) of the three parsers that face input we do not control:
 * SPIFFE IDs (configuration, peer certificates), SPIRE's Secrets Manager secret, and Stripe
 * webhooks (the internet), the last through the real payment-webhook handler. Each property
 * states what must hold for every input, not for a list of examples; `numRuns` is bounded so the
 * file stays within a few seconds.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import { WEBHOOK_ERROR_STATUS, type WebhookErrorCode } from '../../functions/payment-webhook/webhook-error.js';
import { IdentityError, SpiffeIdError, type SpiffeIdErrorCode } from '../../shared/errors.js';
import { svidFromSpireSecret } from '../../shared/identity/spire-secret.js';
import { parseSpiffeId } from '../../shared/spiffe/spiffe-id.js';
import { parseTrustDomain } from '../../shared/spiffe/trust-domain.js';
import { apiGatewayV1Event, apiGatewayV2Event, signStripePayload, stripeEvent, TEST_SIGNING_SECRET } from '../fixtures/stripe.js';
import { DevCa, spireSecretJson, type MintedSvid } from '../local/dev-ca.js';
import { auditTheWholeFile, auditedLogs, coldStart, context, type WebhookHandler } from './harness.js';

const SPIFFE_ID_ERROR_CODES: ReadonlySet<SpiffeIdErrorCode> = new Set<SpiffeIdErrorCode>([
  'SPIFFE_ID_EMPTY',
  'SPIFFE_ID_WRONG_SCHEME',
  'SPIFFE_ID_MISSING_TRUST_DOMAIN',
  'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
  'SPIFFE_ID_NO_LEADING_SLASH',
  'SPIFFE_ID_EMPTY_SEGMENT',
  'SPIFFE_ID_DOT_SEGMENT',
  'SPIFFE_ID_BAD_PATH_SEGMENT_CHAR',
  'SPIFFE_ID_TRAILING_SLASH',
]);

const logs = auditedLogs();

// ---------------------------------------------------------------------------------------------
// SPIFFE IDs
// ---------------------------------------------------------------------------------------------

const chars = (text: string) => fc.constantFrom(...text.split(''));
const trustDomainArb = fc.string({ unit: chars('abcdefghijklmnopqrstuvwxyz0123456789.-_'), minLength: 1, maxLength: 24 });
const segmentArb = fc
  .string({ unit: chars('abcxyzABCXYZ0189.-_'), minLength: 1, maxLength: 12 })
  .filter((s) => s !== '.' && s !== '..');
/** Valid SPIFFE IDs: `spiffe://<td>` plus zero or more segments. */
const validIdArb = fc
  .tuple(trustDomainArb, fc.array(segmentArb, { maxLength: 5 }))
  .map(([td, segments]) => `spiffe://${td}${segments.map((s) => `/${s}`).join('')}`);
/** A valid ID with a few characters inserted or removed: the near misses a parser gets wrong. */
const nearMissArb = fc
  .tuple(
    validIdArb,
    fc.array(
      fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.string({ unit: chars('/.:%?#@ A\u00e9\u0000\\-_'), maxLength: 3 })),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([id, edits]) =>
    edits.reduce((text, [at, remove, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + remove);
    }, id),
  );
const anyIdTextArb = fc.oneof(validIdArb, nearMissArb, fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', 'spiffe://', 'spiffe:///', 'SPIFFE://jia.app'));

/** Runs `parse` on `text`: the value, or the error, which must be a SpiffeIdError with a known code naming the input. */
function parseOrSpiffeIdError<T>(parse: (text: string) => T, text: string): T | undefined {
  try {
    return parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SpiffeIdError);
    expect(SPIFFE_ID_ERROR_CODES.has((error as SpiffeIdError).code)).toBe(true);
    return undefined;
  }
}

describe('SPIFFE ID parsing, for any input', () => {
  it('parses every valid ID to exactly its text, and the result round-trips through toString', () => {
    fc.assert(
      fc.property(validIdArb, (text) => {
        const id = parseSpiffeId(text);
        expect(id.toString()).toBe(text);
        expect(parseSpiffeId(id.toString()).equals(id)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('either parses (and then round-trips) or throws SpiffeIdError with a known code, never another error', () => {
    let parsed = 0;
    fc.assert(
      fc.property(anyIdTextArb, (text) => {
        const id = parseOrSpiffeIdError(parseSpiffeId, text);
        if (id === undefined) return;
        parsed++;
        expect(id.toString()).toBe(text);
        expect(parseSpiffeId(id.toString()).toString()).toBe(id.toString());
        expect(id.trustDomain.idString()).toBe(`spiffe://${id.trustDomain.name}`);
      }),
      { numRuns: 1_500 },
    );
    expect(parsed).toBeGreaterThan(50); // the generators reach both outcomes
  });

  it('parses trust domains the same way: a TrustDomain that round-trips, or a SpiffeIdError with a known code', () => {
    fc.assert(
      fc.property(fc.oneof(trustDomainArb, anyIdTextArb), (text) => {
        const td = parseOrSpiffeIdError(parseTrustDomain, text);
        if (td !== undefined) expect(parseTrustDomain(td.name).equals(td)).toBe(true);
      }),
      { numRuns: 800 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// SPIRE's Secrets Manager secret
// ---------------------------------------------------------------------------------------------

let ca: DevCa;
let svid: MintedSvid;
let otherSvid: MintedSvid;

describe('SPIRE secret parsing, for any secret value', () => {
  beforeAll(async () => {
    ca = await DevCa.create('jia.app');
    [svid, otherSvid] = await Promise.all([ca.mintSvid('spiffe://jia.app/payment-functions'), ca.mintSvid('spiffe://jia.app/other')]);
  });

  /** PEM-ish text: real parts, real parts corrupted or cut, and junk. */
  const pemArb = () =>
    fc.oneof(
      fc.constantFrom(svid.certChainPem, svid.privateKeyPem, ca.bundlePem, otherSvid.certChainPem, otherSvid.privateKeyPem),
      fc
        .tuple(fc.constantFrom(svid.certChainPem, svid.privateKeyPem, ca.bundlePem), fc.nat(), fc.constantFrom('A', '-', '\n', '=', '', 'é'))
        .map(([pem, at, c]) => pem.slice(0, at % pem.length) + c + pem.slice((at % pem.length) + 1)),
      fc.tuple(fc.constantFrom(svid.certChainPem, ca.bundlePem), fc.nat()).map(([pem, at]) => pem.slice(0, at % pem.length)),
      fc.string(),
      fc.constant('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    );
  const secretJsonArb = () =>
    fc.record(
      {
        spiffeID: fc.oneof(fc.constant('spiffe://jia.app/payment-functions'), validIdArb, fc.string(), fc.integer()),
        x509SVID: fc.oneof(pemArb(), fc.jsonValue()),
        x509SVIDKey: fc.oneof(pemArb(), fc.jsonValue()),
        bundle: fc.oneof(pemArb(), fc.jsonValue()),
        federatedBundles: fc.oneof(
          fc.dictionary(fc.oneof(validIdArb, trustDomainArb, fc.string()), pemArb(), { maxKeys: 2 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
  const secretArb = () =>
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ SecretBinary: bytes })),
      fc.jsonValue().map((v) => ({ SecretString: JSON.stringify(v) })),
      fc.string().map((s) => ({ SecretString: s })),
      secretJsonArb().map((v) => ({ SecretBinary: new TextEncoder().encode(JSON.stringify(v)) })),
      // A real secret with one byte changed.
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
        const bytes = new TextEncoder().encode(spireSecretJson(svid, ca.bundlePem));
        bytes[at % bytes.length] = byte;
        return { SecretBinary: bytes };
      }),
      fc.constant({}),
    );

  it('yields valid material or throws IdentityError, whatever the bytes or JSON', () => {
    const codes = new Set<string>();
    fc.assert(
      fc.property(secretArb(), (secret) => {
        try {
          const material = svidFromSpireSecret(secret, 'spire/payment-functions');
          expect(material.svid.id.toString()).toBe('spiffe://jia.app/payment-functions');
        } catch (error) {
          expect(error).toBeInstanceOf(IdentityError);
          codes.add((error as IdentityError).code);
        }
      }),
      { numRuns: 400 },
    );
    // The generators reach deep: past JSON and the schema into the certificate checks.
    expect([...codes]).toEqual(expect.arrayContaining(['IDENTITY_SECRET_EMPTY', 'IDENTITY_SECRET_MALFORMED', 'IDENTITY_INVALID_SVID']));
  });

  it('accepts the secret exactly as SPIRE writes it (the property above is not vacuous)', () => {
    const material = svidFromSpireSecret({ SecretBinary: new TextEncoder().encode(spireSecretJson(svid, ca.bundlePem)) }, 'spire/payment-functions');
    expect(material.svid.serialNumber).toBe(svid.serialNumber);
  });
});

// ---------------------------------------------------------------------------------------------
// Stripe webhooks through the real handler
// ---------------------------------------------------------------------------------------------

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/entitlement-commands';
const SECRET_ID = 'payments/stripe-webhook';
/** The errors that come before any dependency is needed: they do not change when one fails. */
const BEFORE_SECRET: ReadonlySet<string> = new Set(['WEBHOOK_REQUEST_INVALID', 'WEBHOOK_SIGNATURE_MISSING', 'WEBHOOK_SIGNATURE_MALFORMED']);

const sqs = mockClient(SQSClient);
const secretsManager = mockClient(SecretsManagerClient);

/** How the `Stripe-Signature` header of a generated request is made, once the body is known. */
type SignatureSpec =
  | { kind: 'none' }
  | { kind: 'valid'; offsetSeconds: number }
  | { kind: 'foreign'; secret: string }
  | { kind: 'text'; text: string };

interface WebhookRequestSpec {
  version: 'v1' | 'v2';
  body: string;
  base64: boolean;
  headerName: string;
  signature: SignatureSpec;
  extraHeaders: Record<string, string>;
}

/**
 * Events shaped as Stripe sends them (`stripeEvent`: the handled type's object in the newest or
 * the 2023-10-16 shape), with any of the handled types or one that is ignored, and metadata of any
 * text.
 */
const wellFormedEventArb = fc
  .record({
    id: fc.stringMatching(/^evt_[A-Za-z0-9]{1,16}$/),
    type: fc.constantFrom(
      'checkout.session.completed',
      'invoice.paid',
      'customer.subscription.updated',
      'customer.subscription.deleted',
      'charge.refunded',
      'charge.dispute.created',
      'entitlements.active_entitlement_summary.updated',
      'customer.created',
    ),
    created: fc.integer({ min: 0, max: 2 ** 31 }),
    shape: fc.constantFrom('latest' as const, '2023-10-16' as const),
    userId: fc.oneof(fc.constantFrom('user-1', 'user-solo', null), fc.string({ maxLength: 10 })),
    entitlement: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
    name: fc.string({ unit: 'grapheme', maxLength: 12 }),
  })
  .map(({ name, ...options }) => {
    const event = stripeEvent(options);
    (event.data as { object: Record<string, unknown> }).object['description'] = name;
    return event;
  });

/** Anything with some of an event's keys, each of any type. */
const anyShapeEventArb = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^evt_[A-Za-z0-9]{1,16}$/), fc.string(), fc.integer()),
    object: fc.constant('event'),
    type: fc.oneof(
      fc.constantFrom('checkout.session.completed', 'invoice.paid', 'customer.subscription.deleted', 'customer.created'),
      fc.string(),
    ),
    created: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.double(), fc.string(), fc.constant(-5)),
    data: fc.oneof(
      fc.record({
        object: fc.record(
          {
            metadata: fc.oneof(
              fc.record(
                { user_id: fc.oneof(fc.constantFrom('user-1', 'user-solo'), fc.string(), fc.integer()), entitlement: fc.oneof(fc.string(), fc.constant('family_plan')) },
                { requiredKeys: [] },
              ),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: [] },
        ),
      }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: wellFormedEventArb.map((e) => JSON.stringify(e, null, 2)) },
  { weight: 2, arbitrary: anyShapeEventArb.map((e) => JSON.stringify(e, null, 2)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
);

const signatureArb: fc.Arbitrary<SignatureSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -400, max: 400 }).map((offsetSeconds) => ({ kind: 'valid' as const, offsetSeconds })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.stringMatching(/^whsec_[a-z0-9]{1,12}$/).map((secret) => ({ kind: 'foreign' as const, secret })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.string(),
        fc.tuple(fc.string({ unit: chars('0123456789x-'), maxLength: 13 }), fc.string({ unit: chars('0123456789abcdefABCDEFg'), maxLength: 66 })).map(
          ([t, v1]) => `t=${t},v1=${v1}`,
        ),
      )
      .map((text) => ({ kind: 'text' as const, text })),
  },
);

const requestArb: fc.Arbitrary<WebhookRequestSpec> = fc.record({
  version: fc.constantFrom('v1' as const, 'v2' as const),
  body: bodyArb,
  base64: fc.boolean(),
  headerName: fc.constantFrom('Stripe-Signature', 'stripe-signature', 'STRIPE-SIGNATURE'),
  signature: signatureArb,
  extraHeaders: fc.dictionary(
    fc.string({ unit: chars('abcdefxyz-'), minLength: 1, maxLength: 8 }).filter((name) => name.toLowerCase() !== 'stripe-signature'),
    fc.string({ maxLength: 20 }),
    { maxKeys: 3 },
  ),
});

/** The API Gateway event of a generated request, signed now as its spec says. */
function eventOf(spec: WebhookRequestSpec): unknown {
  const bytes = Buffer.from(spec.body, 'utf8');
  const now = Math.floor(Date.now() / 1000);
  const signature =
    spec.signature.kind === 'valid'
      ? signStripePayload(bytes, TEST_SIGNING_SECRET, now + spec.signature.offsetSeconds)
      : spec.signature.kind === 'foreign'
        ? signStripePayload(bytes, spec.signature.secret, now)
        : spec.signature.kind === 'text'
          ? spec.signature.text
          : undefined;
  const headers = { ...spec.extraHeaders, ...(signature === undefined ? {} : { [spec.headerName]: signature }) };
  const options = { body: spec.base64 ? bytes : spec.body, base64: spec.base64, headers };
  return spec.version === 'v1' ? apiGatewayV1Event(options) : apiGatewayV2Event(options);
}

interface Answer {
  statusCode: number;
  code: string | undefined;
  queued: unknown[];
}

describe('Stripe webhooks through the handler, for any request', () => {
  let webhook: WebhookHandler;
  let webhookFromSecretsManager: WebhookHandler;
  const seen = new Map<string, number>();
  const savedEnv = process.env;

  beforeAll(async () => {
    const base = { ...process.env, AWS_REGION: 'us-east-1', QUEUE_URL };
    webhook = await coldStart('webhook', base, { WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET });
    webhookFromSecretsManager = await coldStart('webhook', base, { WEBHOOK_SIGNING_SECRET_ID: SECRET_ID });
    // Secrets Manager is down for the whole file: that container never loads its secret.
    secretsManager.on(GetSecretValueCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServiceError', $metadata: {} }));
  });
  afterAll(() => {
    process.env = savedEnv;
    sqs.restore();
    secretsManager.restore();
  });

  /** Invokes `handler` with the queue accepting (or refusing) messages; never throws, or the property fails. */
  async function answer(handler: WebhookHandler, event: unknown, queue: 'up' | 'down'): Promise<Answer> {
    sqs.reset();
    if (queue === 'up') sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    else sqs.on(SendMessageCommand).rejects(Object.assign(new Error('throttled'), { name: 'KmsThrottled', $metadata: {} }));
    const response = await handler(event, context(3_000));
    const body = JSON.parse(response.body) as { received?: boolean; ignored?: string; error?: { code: WebhookErrorCode; message: string } };
    if (response.statusCode === 200) expect(body).toMatchObject({ received: true });
    else expect(WEBHOOK_ERROR_STATUS[body.error!.code]).toBe(response.statusCode); // the code says the status
    expect(response.body).not.toContain(TEST_SIGNING_SECRET);
    const queued = sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody ?? '') as unknown);
    return { statusCode: response.statusCode, code: body.error?.code, queued };
  }

  it('answers only 200, 400 or 401 while its dependencies are up, and 500 only when the queue or the secret is what failed', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (spec) => {
        const event = eventOf(spec);

        const healthy = await answer(webhook, event, 'up');
        const queueDown = await answer(webhook, event, 'down');
        const secretDown = await answer(webhookFromSecretsManager, event, 'up');

        expect([200, 400, 401]).toContain(healthy.statusCode);
        const outcome = healthy.statusCode === 200 ? (healthy.queued.length > 0 ? 'queued' : 'ignored') : healthy.code!;
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        // A queued command is exactly what grant-entitlements accepts; nothing else is ever queued.
        expect(healthy.queued.length).toBeLessThanOrEqual(1);
        for (const message of healthy.queued) expect(EntitlementCommand.parse(message)).toEqual(message);
        if (healthy.statusCode !== 200) expect(healthy.queued).toEqual([]);

        // The queue failing changes only the answer to a request that would have been queued.
        if (outcome === 'queued') expect([queueDown.statusCode, queueDown.code]).toEqual([500, 'WEBHOOK_QUEUE_FAILED']);
        else expect([queueDown.statusCode, queueDown.code]).toEqual([healthy.statusCode, healthy.code]);

        // Secrets Manager failing changes the answer to every request that got as far as needing it.
        if (healthy.code !== undefined && BEFORE_SECRET.has(healthy.code)) {
          expect([secretDown.statusCode, secretDown.code]).toEqual([healthy.statusCode, healthy.code]);
        } else {
          expect([secretDown.statusCode, secretDown.code]).toEqual([500, 'WEBHOOK_SECRET_UNAVAILABLE']);
        }
        expect(secretDown.queued).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // The generated requests reach every kind of answer, so the property is not vacuous.
    for (const outcome of ['queued', 'ignored', 'WEBHOOK_SIGNATURE_MISSING', 'WEBHOOK_SIGNATURE_MALFORMED', 'WEBHOOK_SIGNATURE_MISMATCH', 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', 'WEBHOOK_PAYLOAD_MALFORMED', 'WEBHOOK_EVENT_INVALID']) {
      expect(seen.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
    }
    expect(logs.lines.length).toBeGreaterThan(300);
  });

  it('answers 400, never throws, for any event that is not an API Gateway request', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ maxDepth: 2 }), async (event) => {
        const response = await webhook(event, context(3_000));
        expect([400, 401]).toContain(response.statusCode);
      }),
      { numRuns: 200 },
    );
  });
});

auditTheWholeFile(logs, 300);
