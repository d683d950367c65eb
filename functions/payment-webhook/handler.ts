import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { MeshError } from '../../shared/errors.js';
import { sqsEntitlementQueue } from './entitlement-queue.js';
import { handleApiGatewayPaymentWebhook, type PaymentWebhookDeps } from './payment-webhook.js';
import { signingSecretSource } from './signing-secrets.js';
import { paymentWebhookConfigFromEnv } from './webhook-config.js';

// Read at init: a missing or bad setting fails the cold start with a ConfigError naming the key.
const config = paymentWebhookConfigFromEnv(process.env);

// TODO(observability): the lead swaps this for the scrubbing logger and observabilityMiddleware.
const logger = new Logger({ serviceName: 'payment-webhook' });

// Module scope, reused across warm invocations; the SDK clients inside are created on first use.
const deps: PaymentWebhookDeps = {
  signingSecrets: signingSecretSource(config.signingSecret, {
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
  handleApiGatewayPaymentWebhook(event, deps, { toleranceSeconds: config.toleranceSeconds }),
)
  // `logEvent: false` wins over POWERTOOLS_LOGGER_LOG_EVENT: the event carries the Stripe-Signature.
  .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
