// The payment webhook through its wrapped Lambda handler, as API Gateway invokes it: every outcome,
// with SQS and Secrets Manager mocked at the SDK and everything written to stdout/stderr captured.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EntitlementCommand } from '../../../../functions/payment-webhook/entitlement-command.js';
import { auditLogLines } from '../../../fixtures/log-audit.js';
import {
  apiGatewayV1Event,
  apiGatewayV2Event,
  nowSeconds,
  ROTATED_SIGNING_SECRET,
  signedWebhookEvent,
  signStripePayload,
  stripeEvent,
  stripeEventBody,
  stripeV1SignatureHex,
  TEST_SIGNING_SECRET,
  type ApiGatewayVersion,
} from '../../../fixtures/stripe.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/entitlements';
const SECRET_ID = 'payments/stripe-webhook';
const JSON_HEADERS = { 'content-type': 'application/json' };

const sqs = mockClient(SQSClient);
const sm = mockClient(SecretsManagerClient);
const savedEnv = { ...process.env };

const lambdaContext = {
  functionName: 'payment-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:payment-webhook',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/payment-webhook',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 3000,
} as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

/** Imports a fresh handler module (a cold start) under `env`. */
async function coldStart(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  process.env = { ...savedEnv, AWS_REGION: 'eu-west-1', QUEUE_URL, ...env };
  const module = await import('../../../../functions/payment-webhook/handler.js');
  return module.handler as unknown as Handler;
}

const localSecret = { WEBHOOK_SIGNING_SECRET: TEST_SIGNING_SECRET };

// Every line written during a test, and every response and secret used, for the leak audit.
let lines: string[];
let responses: string[];
let signatures: string[];

beforeEach(() => {
  // A still clock (Date only): a signature's t and the handler's now fall in the same second.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  lines = [];
  responses = [];
  signatures = [];
  const collect = (chunk: string | Uint8Array): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(collect as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(collect as typeof process.stderr.write);
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  sqs.reset();
  sm.reset();
  process.env = { ...savedEnv };
  // No secret or signature in any log line or response, whatever the outcome.
  const leaks = [...lines, ...responses].filter(
    (text) =>
      text.includes(TEST_SIGNING_SECRET) ||
      text.includes(ROTATED_SIGNING_SECRET) ||
      signatures.some((signature) => text.includes(signature)),
  );
  expect(leaks).toEqual([]);
  expect(auditLogLines([...lines, ...responses])).toEqual([]);
});

/** Invokes the handler and records the response and the signatures sent, for the audit. */
async function invoke(handler: Handler, event: { headers?: unknown }) {
  const header = headerOf(event);
  if (header) signatures.push(...(header.match(/[0-9a-f]{64}/g) ?? []));
  const response = await handler(event, lambdaContext);
  responses.push(JSON.stringify(response));
  return { ...response, json: JSON.parse(response.body) as unknown };
}

function headerOf(event: { headers?: unknown }): string | undefined {
  const headers = (event.headers ?? {}) as Record<string, string>;
  return headers['Stripe-Signature'] ?? headers['stripe-signature'];
}

function queuedCommands(): unknown[] {
  return sqs.commandCalls(SendMessageCommand).map((call) => JSON.parse(call.args[0].input.MessageBody ?? ''));
}

const logLines = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('payment-webhook handler', () => {
  describe('queues handled events and answers 200', () => {
    it.each([
      ['checkout.session.completed', 'grant', 'v2'],
      ['invoice.paid', 'grant', 'v1'],
      ['customer.subscription.deleted', 'revoke', 'v2'],
    ] as const)('%s → %s (%s event)', async (type, action, version) => {
      const handler = await coldStart(localSecret);
      const created = nowSeconds() - 5;
      const body = stripeEventBody({ id: 'evt_1Abc', type, created, userId: 'user-1', entitlement: 'family_plan' });

      const response = await invoke(handler, signedWebhookEvent(version, body));

      expect(response).toMatchObject({ statusCode: 200, headers: JSON_HEADERS, body: '{"received":true}' });
      const calls = sqs.commandCalls(SendMessageCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]?.args[0].input;
      expect(input?.QueueUrl).toBe(QUEUE_URL);
      expect(input?.MessageAttributes).toEqual({
        eventType: { DataType: 'String', StringValue: type },
        eventId: { DataType: 'String', StringValue: 'evt_1Abc' },
      });
      const message = JSON.parse(input?.MessageBody ?? '') as unknown;
      expect(message).toEqual({
        action,
        eventId: 'evt_1Abc',
        eventType: type,
        eventCreated: created,
        purchaserId: 'user-1',
        stripeRefs: ['sub_Pfuser1', 'cus_Pfuser1'],
        entitlement: 'family_plan',
      });
      expect(EntitlementCommand.parse(message)).toEqual(message);
    });

    it('grants premium_features when the metadata names no entitlement', async () => {
      const handler = await coldStart(localSecret);

      await invoke(handler, signedWebhookEvent('v2', stripeEventBody({ type: 'invoice.paid' })));

      expect(queuedCommands()).toEqual([expect.objectContaining({ entitlement: 'premium_features' })]);
    });
  });

  it('acknowledges another event type with 200 and queues nothing', async () => {
    const handler = await coldStart(localSecret);

    const response = await invoke(
      handler,
      signedWebhookEvent('v2', stripeEventBody({ type: 'customer.created', userId: null })),
    );

    expect(response).toMatchObject({ statusCode: 200, body: '{"received":true,"ignored":"customer.created"}' });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  describe('answers 401 and queues nothing when the signature does not hold', () => {
    const cases: Array<[string, () => unknown, string, string]> = [
      [
        'a missing header',
        () => apiGatewayV2Event({ body: stripeEventBody() }),
        'WEBHOOK_SIGNATURE_MISSING',
        'request must carry a stripe-signature header',
      ],
      [
        'a malformed header',
        () => apiGatewayV2Event({ body: stripeEventBody(), headers: { 'Stripe-Signature': `v1=${'a'.repeat(64)}` } }),
        'WEBHOOK_SIGNATURE_MALFORMED',
        'stripe-signature header must be t=<unix seconds> followed by one or more v1=<64 hex digits>',
      ],
      [
        'a signature under another secret',
        () => signedWebhookEvent('v1', stripeEventBody(), { secret: 'whsec_attacker' }),
        'WEBHOOK_SIGNATURE_MISMATCH',
        'no v1 signature in the stripe-signature header matches the body under any configured signing secret',
      ],
    ];
    it.each(cases)('%s', async (_, event, code, message) => {
      const handler = await coldStart(localSecret);

      const response = await invoke(handler, event() as { headers?: unknown });

      expect(response).toMatchObject({ statusCode: 401, headers: JSON_HEADERS });
      expect(response.json).toEqual({ error: { code, message } });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('a body altered by one byte after signing', async () => {
      const handler = await coldStart(localSecret);
      const body = stripeEventBody({ userId: 'user-1' });
      const header = signStripePayload(body, TEST_SIGNING_SECRET);
      const altered = body.replace('"user-1"', '"user-2"');
      expect(Buffer.byteLength(altered)).toBe(Buffer.byteLength(body));

      const response = await invoke(handler, apiGatewayV2Event({ body: altered, headers: { 'Stripe-Signature': header } }));

      expect(response.statusCode).toBe(401);
      expect(response.json).toMatchObject({ error: { code: 'WEBHOOK_SIGNATURE_MISMATCH' } });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it.each([
      ['stale', -301, 'old'],
      ['in the future beyond the tolerance', 301, 'in the future'],
    ])('a timestamp %s', async (_, offset, word) => {
      const handler = await coldStart(localSecret);
      const t = nowSeconds() + offset;

      const response = await invoke(handler, signedWebhookEvent('v2', stripeEventBody(), { t }));

      expect(response.statusCode).toBe(401);
      expect(response.json).toEqual({
        error: {
          code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
          message: `signature timestamp ${t} is 301s ${word}, beyond the tolerance of 300s`,
        },
      });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('a timestamp beyond a configured WEBHOOK_TOLERANCE_SECONDS', async () => {
      const handler = await coldStart({ ...localSecret, WEBHOOK_TOLERANCE_SECONDS: '60' });

      const within = await invoke(handler, signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 60 }));
      const beyond = await invoke(handler, signedWebhookEvent('v2', stripeEventBody(), { t: nowSeconds() - 61 }));

      expect([within.statusCode, beyond.statusCode]).toEqual([200, 401]);
    });
  });

  it('accepts a signature under the second of several configured secrets (rotation)', async () => {
    const handler = await coldStart({ WEBHOOK_SIGNING_SECRET: `${TEST_SIGNING_SECRET},${ROTATED_SIGNING_SECRET}` });

    const response = await invoke(
      handler,
      signedWebhookEvent('v2', stripeEventBody(), { secret: ROTATED_SIGNING_SECRET }),
    );

    expect(response.statusCode).toBe(200);
    expect(queuedCommands()).toHaveLength(1);
  });

  it('accepts when the second of several v1 signatures matches', async () => {
    const handler = await coldStart(localSecret);
    const body = stripeEventBody();
    const t = nowSeconds();
    const header = `t=${t},v1=${stripeV1SignatureHex(body, 'whsec_retired', t)},v1=${stripeV1SignatureHex(body, TEST_SIGNING_SECRET, t)}`;

    const response = await invoke(handler, apiGatewayV1Event({ body, headers: { 'Stripe-Signature': header } }));

    expect(response.statusCode).toBe(200);
  });

  describe('verifies a base64 body on its exact bytes', () => {
    it.each(['v1', 'v2'] as const)('%s event', async (version: ApiGatewayVersion) => {
      const handler = await coldStart(localSecret);
      const bytes = Buffer.from(stripeEventBody({ id: 'evt_b64' }), 'utf8');

      const response = await invoke(handler, signedWebhookEvent(version, bytes, { base64: true }));

      expect(response.statusCode).toBe(200);
      expect(queuedCommands()).toEqual([expect.objectContaining({ eventId: 'evt_b64' })]);
    });

    it.each(['v1', 'v2'] as const)('%s event whose bytes are not UTF-8: signed, so 400, not 401', async (version) => {
      const handler = await coldStart(localSecret);
      // Latin-1 "é": any decode-and-re-encode of the body would change these bytes and fail the signature.
      const bytes = Buffer.from(stripeEventBody().replace('Zoë', 'Zo\u00e9'), 'latin1');

      const response = await invoke(handler, signedWebhookEvent(version, bytes, { base64: true }));

      expect(response.statusCode).toBe(400);
      expect(response.json).toEqual({ error: { code: 'WEBHOOK_PAYLOAD_MALFORMED', message: 'payload must be utf-8 text' } });
    });
  });

  describe('answers 400 for a signed payload it cannot use', () => {
    it('malformed JSON', async () => {
      const handler = await coldStart(localSecret);

      const response = await invoke(handler, signedWebhookEvent('v2', '{"id": "evt_1", "type": '));

      expect(response).toMatchObject({ statusCode: 400, headers: JSON_HEADERS });
      expect(response.json).toEqual({ error: { code: 'WEBHOOK_PAYLOAD_MALFORMED', message: 'payload must be json' } });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('malformed JSON that is not signed is 401 first', async () => {
      const handler = await coldStart(localSecret);

      const response = await invoke(
        handler,
        apiGatewayV2Event({ body: '{"id": ', headers: { 'Stripe-Signature': `t=${nowSeconds()},v1=${'0'.repeat(64)}` } }),
      );

      expect(response.statusCode).toBe(401);
    });

    it('a handled type whose object is not that type\'s, naming the field', async () => {
      const handler = await coldStart(localSecret);
      const event = stripeEvent({ type: 'customer.subscription.updated' });
      delete (event.data as { object: Record<string, unknown> }).object.status;

      const response = await invoke(handler, signedWebhookEvent('v1', JSON.stringify(event)));

      expect(response.statusCode).toBe(400);
      expect(response.json).toEqual({
        error: { code: 'WEBHOOK_EVENT_INVALID', message: 'stripe event field data.object.status is required' },
      });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('but not a handled event that names no user: it is queued, to be resolved at grant time', async () => {
      const handler = await coldStart(localSecret);

      const response = await invoke(handler, signedWebhookEvent('v1', stripeEventBody({ type: 'invoice.paid', userId: null })));

      expect(response.statusCode).toBe(200);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    });
  });

  it('answers 500 naming the queue failure when SQS refuses, so Stripe retries', async () => {
    const handler = await coldStart(localSecret);
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('try later'), { name: 'KmsThrottled' }));

    const response = await invoke(handler, signedWebhookEvent('v2', stripeEventBody({ id: 'evt_fail' })));

    expect(response).toMatchObject({ statusCode: 500, headers: JSON_HEADERS });
    expect(response.json).toEqual({
      error: { code: 'WEBHOOK_QUEUE_FAILED', message: 'cannot queue event evt_fail: KmsThrottled' },
    });
  });

  describe('with the signing secret in Secrets Manager', () => {
    const env = { WEBHOOK_SIGNING_SECRET_ID: SECRET_ID };

    it('fetches it once over many invocations and again after the TTL', async () => {
      sm.on(GetSecretValueCommand, { SecretId: SECRET_ID })
        .resolvesOnce({ SecretString: TEST_SIGNING_SECRET })
        .resolves({ SecretString: JSON.stringify({ signingSecret: ROTATED_SIGNING_SECRET }) });
      const handler = await coldStart(env);

      const warm = [];
      for (let i = 0; i < 5; i++) {
        warm.push((await invoke(handler, signedWebhookEvent('v2', stripeEventBody()))).statusCode);
        vi.setSystemTime(Date.now() + 30_000);
      }
      const fetchesWhileWarm = sm.commandCalls(GetSecretValueCommand).length;
      vi.setSystemTime(new Date('2026-01-01T00:05:01Z'));
      const afterTtl = await invoke(handler, signedWebhookEvent('v2', stripeEventBody(), { secret: ROTATED_SIGNING_SECRET }));

      expect(warm).toEqual([200, 200, 200, 200, 200]);
      expect(fetchesWhileWarm).toBe(1);
      expect(afterTtl.statusCode).toBe(200);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it('keeps the last good secret when a refresh fails, and warns', async () => {
      sm.on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: TEST_SIGNING_SECRET })
        .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
      const handler = await coldStart(env);
      await invoke(handler, signedWebhookEvent('v2', stripeEventBody()));

      vi.setSystemTime(new Date('2026-01-01T00:10:00Z'));
      const response = await invoke(handler, signedWebhookEvent('v2', stripeEventBody()));

      expect(response.statusCode).toBe(200);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      expect(logLines()).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          message: 'signing secret refresh failed; serving the last good value',
          code: 'SECRET_FETCH_FAILED',
        }),
      );
    });

    it('answers 500 when no secret was ever loaded, and fetches again on the next invocation', async () => {
      sm.on(GetSecretValueCommand)
        .rejectsOnce(Object.assign(new Error('nope'), { name: 'AccessDeniedException' }))
        .resolves({ SecretString: TEST_SIGNING_SECRET });
      const handler = await coldStart(env);

      const first = await invoke(handler, signedWebhookEvent('v2', stripeEventBody()));
      const second = await invoke(handler, signedWebhookEvent('v2', stripeEventBody()));

      expect(first.statusCode).toBe(500);
      expect(first.json).toEqual({
        error: { code: 'WEBHOOK_SECRET_UNAVAILABLE', message: 'cannot load the webhook signing secret: SECRET_FETCH_FAILED' },
      });
      expect(second.statusCode).toBe(200);
    });

    it('does not call Secrets Manager for a request without a signature', async () => {
      const handler = await coldStart(env);

      await invoke(handler, apiGatewayV2Event({ body: stripeEventBody() }));

      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    });
  });

  it('fails the cold start with a ConfigError naming both secret keys when neither is set', async () => {
    await expect(coldStart({})).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_INVALID',
      message: 'one of WEBHOOK_SIGNING_SECRET_ID (secrets manager) or WEBHOOK_SIGNING_SECRET (local use) must be set',
    });
  });

  it('answers 400 rather than throwing for an event that is not from API Gateway', async () => {
    const handler = await coldStart(localSecret);

    const response = await invoke(handler, { Records: [] } as { headers?: unknown });

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'WEBHOOK_REQUEST_INVALID' } });
  });

  describe('never logs or echoes a secret or a signature', () => {
    it('logs every outcome (so the audit has lines to read), with no secret nor signature even with POWERTOOLS_LOGGER_LOG_EVENT', async () => {
      const handler = await coldStart({ ...localSecret, POWERTOOLS_LOGGER_LOG_EVENT: 'true' });
      const body = stripeEventBody();

      await invoke(handler, signedWebhookEvent('v2', body));
      await invoke(handler, signedWebhookEvent('v2', body, { secret: 'whsec_attacker' }));
      await invoke(handler, signedWebhookEvent('v1', body, { t: nowSeconds() - 3600 }));
      await invoke(handler, apiGatewayV2Event({ body, headers: { 'Stripe-Signature': `t=x,v1=${'ab'.repeat(32)}` } }));
      const invalid = stripeEvent({ type: 'charge.refunded' });
      delete (invalid.data as { object: Record<string, unknown> }).object.refunded;
      await invoke(handler, signedWebhookEvent('v2', JSON.stringify(invalid)));

      expect(logLines().map((line) => [line.level, line.message, line.code])).toEqual([
        ['INFO', 'payment event queued', undefined],
        ['WARN', 'payment webhook rejected', 'WEBHOOK_SIGNATURE_MISMATCH'],
        ['WARN', 'payment webhook rejected', 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE'],
        ['WARN', 'payment webhook rejected', 'WEBHOOK_SIGNATURE_MALFORMED'],
        ['WARN', 'payment webhook rejected', 'WEBHOOK_EVENT_INVALID'],
      ]);
      expect(signatures.length).toBeGreaterThanOrEqual(4);
      // The afterEach audit then checks every line and response against the secrets and these signatures.
    });
  });
});
