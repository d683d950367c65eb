import { APIGatewayProxyEventSchema, APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas';
// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import * as z from 'zod';
import { WebhookError } from './webhook-error.js';

/** An HTTP request as the webhook needs it: headers (any case) and the exact bytes Stripe signed. */
export interface WebhookRequest {
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
}

/**
 * The fields read from API Gateway proxy events, with Powertools' own definitions. Only these are
 * checked: the request context is API Gateway's business, and rejecting a webhook over it (say a
 * test-invoke `sourceIp`) would help no one.
 */
const ApiGatewayRestRequest = APIGatewayProxyEventSchema.pick({
  headers: true,
  multiValueHeaders: true,
  body: true,
  isBase64Encoded: true,
});
const ApiGatewayHttpRequest = APIGatewayProxyEventV2Schema.pick({ headers: true, body: true, isBase64Encoded: true });
const ApiGatewayRequest = z.union([ApiGatewayRestRequest, ApiGatewayHttpRequest]);

/**
 * Reads the headers and the exact raw body of an API Gateway REST (payload v1) or HTTP API
 * (payload v2) proxy event: `body` decoded from base64 when `isBase64Encoded`, else its UTF-8
 * bytes. Header names are lower-cased; v1 `multiValueHeaders` win over `headers` and repeated
 * values are joined with `,` (as HTTP list headers combine, and as the HTTP API itself does).
 *
 * @throws {WebhookError} `WEBHOOK_REQUEST_INVALID` when the event is not an API Gateway proxy event.
 */
export function webhookRequestFromApiGateway(event: unknown): WebhookRequest {
  const parsed = ApiGatewayRequest.safeParse(event);
  if (!parsed.success) {
    throw new WebhookError(
      'WEBHOOK_REQUEST_INVALID',
      'event must be an api gateway proxy event (payload v1 or v2) with headers, body and isBase64Encoded',
      { cause: parsed.error },
    );
  }
  const { body, isBase64Encoded } = parsed.data;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.data.headers ?? {})) headers[name.toLowerCase()] = value;
  if ('multiValueHeaders' in parsed.data) {
    const multi: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(parsed.data.multiValueHeaders ?? {})) {
      (multi[name.toLowerCase()] ??= []).push(...values);
    }
    for (const [name, values] of Object.entries(multi)) headers[name] = values.join(',');
  }
  const text = body ?? '';
  return { headers, rawBody: isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8') };
}

/** The value of header `name`, whatever the case of its name in `headers`. */
export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
