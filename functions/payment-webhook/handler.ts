import middy from '@middy/core';
import { MeshError } from '../../shared/errors.js';
import { preloadAwsSdk } from '../../shared/cold-start/aws-sdk-preload.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { sqsEntitlementQueue } from './entitlement-queue.js';
import { handleApiGatewayPaymentWebhook, type PaymentWebhookDeps } from './payment-webhook.js';
import { signingSecretSource } from './signing-secrets.js';
import { paymentWebhookConfigFromEnv } from './webhook-config.js';

// Read at init: a missing or bad setting fails the cold start with a ConfigError naming the key.
const config = paymentWebhookConfigFromEnv(process.env);
// What every invocation uses, loaded within init: the signing secret's client and the queue's.
await preloadAwsSdk(config.secretsManager.mode === 'sdk' ? ['client-secrets-manager', 'client-sqs'] : ['client-sqs']);

// The mesh layer's logger: it scrubs PEM blocks, webhook secrets and signatures whatever is logged.
const { logger } = meshTelemetry();

// Module scope, reused across warm invocations; the SDK clients inside are created on first use.
const deps: PaymentWebhookDeps = {
  signingSecrets: signingSecretSource(config.signingSecret, {
    access: config.secretsManager,
    onRefreshError: (error) =>
      logger.warn('signing secret refresh failed; serving the last good value', {
        code: error instanceof MeshError ? error.code : undefined,
        errorName: error instanceof Error ? error.name : typeof error,
      }),
  }),
  enqueue: sqsEntitlementQueue(config.queueUrl),
  now: () => Date.now(),
  log: logger,
};

export const handler = middy(async (event: unknown) =>
  handleApiGatewayPaymentWebhook(event, deps, { toleranceSeconds: config.toleranceSeconds, stripe: config.stripe }),
)
  // Never logs the event (it carries the Stripe-Signature); sets the correlation id, flushes metrics.
  .use(observabilityMiddleware());
