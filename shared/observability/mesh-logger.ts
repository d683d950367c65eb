import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { scrubLogValue } from './log-scrubber.js';

/** The `service` key of every log line when neither the option nor `POWERTOOLS_SERVICE_NAME` names one. */
export const DEFAULT_LOG_SERVICE_NAME = 'payment-functions';

/**
 * A Powertools Logger whose every line passes through the secret scrubber before it is written.
 *
 * Why a subclass hooking the JSON replacer rather than a custom `LogFormatter`: the formatter sees
 * attributes before serialisation (errors unformatted, objects un-walked), so it would need its own
 * deep copy with cycle handling; the replacer is called by `JSON.stringify` for every key and value
 * actually written, including formatted errors, their `cause` chains, buffered lines and the
 * logged event, and it cannot be switched off by a caller's `jsonReplacerFn` or `logFormatter`.
 * Children (`createChild`) are MeshLoggers too. Level, sampling and buffering are Powertools' own:
 * `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL`, and AWS Lambda's `AWS_LAMBDA_LOG_LEVEL` wins over both.
 */
export class MeshLogger extends Logger {
  protected override getJsonReplacer(): (key: string, value: unknown) => void {
    const powertoolsReplacer = super.getJsonReplacer();
    // `this` is the object holding `key`: Powertools' replacer uses it to drop circular references.
    return function scrubbingReplacer(this: unknown, key: string, value: unknown) {
      return powertoolsReplacer.call(this, key, scrubLogValue(key, value));
    };
  }

  protected override createLogger(options?: ConstructorOptions): MeshLogger {
    return new MeshLogger(options);
  }

  override createChild(options?: ConstructorOptions): MeshLogger {
    return super.createChild(options) as MeshLogger;
  }
}

/**
 * Creates the container's logger: a {@link MeshLogger} named after the function family.
 *
 * The log level is left to Powertools (environment first) unless `options.logLevel` is given.
 */
export function createMeshLogger(options: ConstructorOptions = {}): MeshLogger {
  return new MeshLogger({
    ...options,
    serviceName: options.serviceName ?? (process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_LOG_SERVICE_NAME),
  });
}
