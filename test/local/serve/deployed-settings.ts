/**
 * What the CDK stack gives each function and its triggers, read from the same CDK context `cdk
 * synth` reads (`cdk.json`, then `-c key=value` overrides) through the app's own parser, so a
 * local run uses the deployed timeouts, memory sizes and queue knobs.
 */
import { readFile } from 'node:fs/promises';
import type { Node } from 'constructs';
import { appConfigFromContext, type AppConfig } from '../../../cdk/config.js';
import type { FunctionName } from '../invoke-options.js';
import { LocalSetupError } from '../local-dependencies.js';

export const PROJECT_ROOT = new URL('../../../', import.meta.url);

/** The stack's visibility-timeout rule (`payment-functions-stack.ts`): six times the consumer's timeout plus the window. */
const VISIBILITY_TIMEOUT_FACTOR = 6;

export const FUNCTION_SETTINGS: Record<FunctionName, (c: AppConfig) => { timeoutSeconds: number; memoryMb: number }> = {
  'payment-webhook': (c) => ({ timeoutSeconds: c.paymentWebhookTimeoutSeconds, memoryMb: c.paymentWebhookMemoryMb }),
  'grant-entitlements': (c) => ({ timeoutSeconds: c.grantEntitlementsTimeoutSeconds, memoryMb: c.grantEntitlementsMemoryMb }),
  'get-user-info': (c) => ({ timeoutSeconds: c.getUserInfoTimeoutSeconds, memoryMb: c.getUserInfoMemoryMb }),
  'mesh-health': (c) => ({ timeoutSeconds: c.meshHealthTimeoutSeconds, memoryMb: c.meshHealthMemoryMb }),
};

/** The queue's visibility timeout as the stack sets it. */
export function deployedVisibilityTimeoutSeconds(config: AppConfig): number {
  return VISIBILITY_TIMEOUT_FACTOR * config.grantEntitlementsTimeoutSeconds + config.queueMaxBatchingWindowSeconds;
}

/**
 * The app configuration `cdk synth` would read: cdk.json's context, then `overrides` (JSON when
 * they parse, strings otherwise, as the CDK CLI reads `-c`).
 *
 * @throws {LocalSetupError} listing every invalid key, in the app's own words.
 */
export async function deployedConfig(overrides: Record<string, string>): Promise<AppConfig> {
  const cdkJson = JSON.parse(await readFile(new URL('cdk.json', PROJECT_ROOT), 'utf8')) as { context?: Record<string, unknown> };
  const context: Record<string, unknown> = { ...cdkJson.context };
  for (const [key, raw] of Object.entries(overrides)) {
    try {
      context[key] = JSON.parse(raw);
    } catch {
      context[key] = raw;
    }
  }
  try {
    return appConfigFromContext({ tryGetContext: (key: string) => context[key] } as unknown as Node, {});
  } catch (error) {
    throw new LocalSetupError((error as Error).message);
  }
}

/** The environment of one function: the shared one, plus what Lambda sets for it. */
export function functionEnvironment(name: FunctionName, env: NodeJS.ProcessEnv, memoryMb: number): NodeJS.ProcessEnv {
  return {
    ...env,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME || name,
    // DEBUG unless set: the console shows each successful mesh call (DEBUG) with its peer SPIFFE ID;
    // the terminal filters by --log-level.
    POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL || 'DEBUG',
  };
}
