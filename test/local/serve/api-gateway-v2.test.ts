import { describe, expect, it } from 'vitest';
import { parseStripeSignatureHeader, verifyStripeSignature } from '../../../functions/payment-webhook/stripe-signature.js';
import { webhookRequestFromApiGateway } from '../../../functions/payment-webhook/webhook-request.js';
import { userRequestOf } from '../../../functions/get-user-info/user-request.js';
import { signStripePayload, stripeEventBody, TEST_SIGNING_SECRET } from '../../fixtures/stripe.js';
import { httpAnswerOf, httpApiEvent, type HttpRequestParts } from './api-gateway-v2.js';
import { matchRoute } from './http-routes.js';

/**
 * The payload format 2.0 example AWS documents ("Create AWS Lambda proxy integrations for HTTP
 * APIs in API Gateway"), reduced to its keys: what a local event must have.
 */
const DOCUMENTED_V2_EXAMPLE = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/my/path',
  rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
  cookies: ['cookie1', 'cookie2'],
  headers: { header1: 'value1', header2: 'value1,value2' },
  queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api-id',
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'id',
    http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'agent' },
    requestId: 'id',
    routeKey: '$default',
    stage: '$default',
    time: '12/Mar/2020:19:03:58 +0000',
    timeEpoch: 1583348638390,
  },
  body: 'Hello from Lambda',
  pathParameters: { parameter1: 'value1' },
  isBase64Encoded: false,
};

const request = (overrides: Partial<HttpRequestParts>): HttpRequestParts => ({
  method: 'POST',
  url: '/webhooks/payments',
  headers: { host: '127.0.0.1:3000', 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  host: '127.0.0.1:3000',
  httpVersion: '1.1',
  ...overrides,
});

const keysOf = (value: object) => Object.keys(value).sort();

describe('API Gateway HTTP API payload 2.0 events, locally', () => {
  it('has the keys of AWS\'s documented example (stage variables aside, which the stack has none of)', () => {
    const match = matchRoute('GET', '/users/user-2')!;
    const event = httpApiEvent(
      request({ method: 'GET', url: '/users/user-2?a=1&a=2&b=3', headers: { host: '127.0.0.1:3000', cookie: 'c1=1; c2=2', 'user-agent': 'curl/8' }, body: Buffer.from('x', 'utf8') }),
      match,
      'req-1',
    );

    expect(keysOf(event)).toEqual(keysOf(DOCUMENTED_V2_EXAMPLE));
    expect(keysOf(event.requestContext)).toEqual(keysOf(DOCUMENTED_V2_EXAMPLE.requestContext));
    expect(keysOf(event.requestContext.http)).toEqual(keysOf(DOCUMENTED_V2_EXAMPLE.requestContext.http));
    expect(event).toMatchObject({
      routeKey: 'GET /users/{userId}',
      rawPath: '/users/user-2',
      rawQueryString: 'a=1&a=2&b=3',
      cookies: ['c1=1', 'c2=2'],
      queryStringParameters: { a: '1,2', b: '3' },
      pathParameters: { userId: 'user-2' },
      requestContext: { routeKey: 'GET /users/{userId}', stage: '$default', requestId: 'req-1', http: { method: 'GET', path: '/users/user-2', protocol: 'HTTP/1.1' } },
    });
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('joins repeated headers with commas and lower-cases their names, as API Gateway does', () => {
    const event = httpApiEvent(request({ host: 'h:1', headers: { host: 'h:1', 'x-many': ['a', 'b'] } }), matchRoute('POST', '/webhooks/payments')!, 'r');

    expect(event.headers['x-many']).toBe('a,b');
    expect(event.headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-port': '1' });
  });

  it('keeps the raw body bytes, so payment-webhook verifies a Stripe signature over them', () => {
    // Prepare: Stripe's bytes, with non-ASCII text and Stripe's own spacing, signed as Stripe signs.
    const body = stripeEventBody({ id: 'evt_local_bytes', type: 'checkout.session.completed', userId: 'user-ü' });
    const signature = signStripePayload(body, TEST_SIGNING_SECRET);

    // Act
    const event = httpApiEvent(request({ body: Buffer.from(body, 'utf8'), headers: { host: 'h', 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature } }), matchRoute('POST', '/webhooks/payments')!, 'r');
    const received = webhookRequestFromApiGateway(event);

    // Assess: the function's own verification, on what the function receives.
    expect(event.isBase64Encoded).toBe(false);
    expect(received.rawBody.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(() => verifyStripeSignature(received.rawBody, parseStripeSignatureHeader(received.headers['stripe-signature']), [TEST_SIGNING_SECRET])).not.toThrow();
  });

  it('base64-encodes a binary (or compressed) body and flags it', () => {
    const bytes = Buffer.from([0, 159, 146, 150, 255]);

    const binary = httpApiEvent(request({ body: bytes, headers: { host: 'h', 'content-type': 'application/octet-stream' } }), matchRoute('POST', '/webhooks/payments')!, 'r');
    const gzipped = httpApiEvent(request({ body: bytes, headers: { host: 'h', 'content-type': 'application/json', 'content-encoding': 'gzip' } }), matchRoute('POST', '/webhooks/payments')!, 'r');

    expect(binary).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
    expect(gzipped).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
  });

  it('is read by get-user-info as an HTTP request for the path\'s user', () => {
    const event = httpApiEvent(request({ method: 'GET', url: '/users/user-3' }), matchRoute('GET', '/users/user-3')!, 'r');

    expect(userRequestOf(event)).toEqual({ kind: 'http', userId: 'user-3' });
    expect(event).not.toHaveProperty('body');
  });

  it('matches no route for another method, path or an empty parameter (API Gateway answers 404)', () => {
    expect(matchRoute('GET', '/webhooks/payments')).toBeUndefined();
    expect(matchRoute('GET', '/users/')).toBeUndefined();
    expect(matchRoute('GET', '/users/a/b')).toBeUndefined();
  });
});

describe('HTTP answers from function results (payload 2.0)', () => {
  it('sends a response\'s status, headers, cookies and body', () => {
    const answer = httpAnswerOf({ statusCode: 503, headers: { 'Retry-After': '60' }, cookies: ['a=1'], body: '{"error":{}}' });

    expect(answer).toMatchObject({ statusCode: 503, headers: { 'retry-after': '60', 'set-cookie': ['a=1'] } });
    expect(answer.body.toString()).toBe('{"error":{}}');
  });

  it('decodes a base64 body', () => {
    expect(httpAnswerOf({ statusCode: 200, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true }).body).toEqual(Buffer.from([1, 2, 3]));
  });

  it('infers a 200 JSON response from a result without a statusCode', () => {
    const answer = httpAnswerOf({ id: 'user-1' });

    expect(answer).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(answer.body.toString())).toEqual({ id: 'user-1' });
  });
});
