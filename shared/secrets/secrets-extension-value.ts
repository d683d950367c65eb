import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretError } from './secret-error.js';
import type { SecretValueAnswer } from './secrets-manager-value.js';

export interface SecretsExtensionOptions {
  /** `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`. */
  port: number;
  /** Where the extension listens: AWS documents `localhost`. */
  host: string;
  /** The SSRF token the extension requires: the sandbox's `AWS_SESSION_TOKEN`, read at each request. */
  token: () => string | undefined;
  /** One request's bound, connect to last byte: the extension itself may be calling Secrets Manager. */
  requestTimeoutMs: number;
  /** How long to keep asking while the extension is not ready (at a cold start it may still be starting). */
  readyWithinMs: number;
  /** First pause between two asks while not ready; doubles each time, up to {@link maxRetryDelayMs}. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Milliseconds on a monotonic clock; injectable for tests. */
  now: () => number;
}

export const SECRETS_EXTENSION_DEFAULTS: SecretsExtensionOptions = {
  port: 2773,
  host: 'localhost',
  token: () => process.env.AWS_SESSION_TOKEN,
  requestTimeoutMs: 5_000,
  readyWithinMs: 2_000,
  retryDelayMs: 10,
  maxRetryDelayMs: 200,
  now: () => performance.now(),
};

/** The header AWS documents for the extension's SSRF token. */
export const SECRETS_EXTENSION_TOKEN_HEADER = 'X-Aws-Parameters-Secrets-Token';

/**
 * Returns a function that reads `secretId` through the AWS Parameters and Secrets Lambda Extension:
 * `GET http://localhost:<port>/secretsmanager/get?secretId=<id>` with the session token in
 * `X-Aws-Parameters-Secrets-Token`, answered with `GetSecretValue`'s JSON (`SecretBinary` in base64).
 * No SDK is loaded: the extension, a second process in the sandbox, makes the call and caches it
 * for `SECRETS_MANAGER_TTL`.
 *
 * While the extension is not ready (connection refused; 503 or 429; a 400 saying it is not
 * ready) the read is retried with backoff for up to `readyWithinMs`; every other answer is final.
 *
 * The returned function throws {@link SecretError}: `SECRET_NOT_FOUND` when the extension reports
 * `ResourceNotFoundException`, else `SECRET_FETCH_FAILED` naming the secret id and the HTTP status
 * or network error, never the token nor the body of the answer.
 */
export function secretsExtensionValue(secretId: string, opts: Partial<SecretsExtensionOptions> = {}): () => Promise<SecretValueAnswer> {
  const options = { ...SECRETS_EXTENSION_DEFAULTS, ...opts };
  const path = `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
  return async function getSecretValueFromExtension() {
    const token = options.token();
    if (!token) {
      throw new SecretError(
        'SECRET_FETCH_FAILED',
        `cannot get secret ${secretId} from the secrets extension: AWS_SESSION_TOKEN is not set, and the extension requires it as ${SECRETS_EXTENSION_TOKEN_HEADER}`,
      );
    }
    const giveUpAt = options.now() + options.readyWithinMs;
    let delay = options.retryDelayMs;
    for (;;) {
      const outcome = await ask(options, path, token);
      if (!notReady(outcome) || options.now() + delay > giveUpAt) return answerOf(outcome, secretId);
      await sleep(delay);
      delay = Math.min(delay * 2, options.maxRetryDelayMs);
    }
  };
}

/** One exchange with the extension: its status and body, or the network error. */
type Outcome = { status: number; body: string } | { error: NodeJS.ErrnoException };

function ask(options: SecretsExtensionOptions, path: string, token: string): Promise<Outcome> {
  return new Promise((resolve) => {
    // A fresh connection each time (no keep-alive): reads are rare, and a pooled socket could
    // outlive a Lambda freeze that the extension's end did not.
    const req = request({ host: options.host, port: options.port, path, method: 'GET', agent: false, headers: { [SECRETS_EXTENSION_TOKEN_HEADER]: token } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => finish({ error }));
    });
    const timer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error(`no answer within ${options.requestTimeoutMs} ms`);
      error.code = 'ETIMEDOUT';
      req.destroy(error);
    }, options.requestTimeoutMs);
    function finish(outcome: Outcome) {
      clearTimeout(timer);
      resolve(outcome);
    }
    req.on('error', (error) => finish({ error }));
    req.end();
  });
}

/**
 * The extension is still starting: nothing listens yet, or it says so. 503 and 429 are how AWS's
 * open-source Secrets Manager Agent answers before it serves and when its connections are used up;
 * a 400 saying "not ready" is what the Lambda extension was reported to answer during init.
 */
function notReady(outcome: Outcome): boolean {
  if ('error' in outcome) return outcome.error.code === 'ECONNREFUSED' || outcome.error.code === 'ECONNRESET';
  if (outcome.status === 503 || outcome.status === 429) return true;
  return outcome.status === 400 && /not ready/i.test(outcome.body);
}

/** The secret of a 200, or the typed error of anything else. */
function answerOf(outcome: Outcome, secretId: string): SecretValueAnswer {
  const from = `cannot get secret ${secretId} from the secrets extension`;
  if ('error' in outcome) {
    throw new SecretError('SECRET_FETCH_FAILED', `${from}: ${outcome.error.code ?? outcome.error.name}`, { cause: outcome.error });
  }
  if (outcome.status !== 200) {
    const type = errorTypeOf(outcome.body);
    const code = type === 'ResourceNotFoundException' ? 'SECRET_NOT_FOUND' : 'SECRET_FETCH_FAILED';
    throw new SecretError(code, `${from}: http ${outcome.status}${type ? ` ${type}` : ''}`);
  }
  const answer = secretValueOf(outcome.body);
  if (answer === undefined) {
    // The body may hold the secret: say what is wrong, never echo it.
    throw new SecretError('SECRET_FETCH_FAILED', `${from}: http 200 with a body that is not GetSecretValue json`);
  }
  return answer;
}

/**
 * The error's type as Secrets Manager's JSON protocol names it (`__type`, possibly with a
 * namespace before `#`), when the body is such JSON; only a bare identifier, so that nothing
 * else of the body ever reaches a message.
 */
function errorTypeOf(body: string): string | undefined {
  const json = jsonOf(body);
  const raw = (json as { __type?: unknown } | null)?.__type;
  const type = typeof raw === 'string' ? raw.slice(raw.lastIndexOf('#') + 1) : undefined;
  return type !== undefined && /^[A-Za-z][A-Za-z0-9]{0,99}$/.test(type) ? type : undefined;
}

/** `GetSecretValue`'s JSON as the SDK would hand it over: `SecretBinary` decoded, `CreatedDate` a Date. */
function secretValueOf(body: string): SecretValueAnswer | undefined {
  const json = jsonOf(body);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const raw = json as Record<string, unknown>;
  const optionalString = (value: unknown) => value === undefined || value === null || typeof value === 'string';
  if (!optionalString(raw.SecretBinary) || !optionalString(raw.SecretString)) return undefined;
  const answer: SecretValueAnswer = {};
  if (typeof raw.ARN === 'string') answer.ARN = raw.ARN;
  if (typeof raw.Name === 'string') answer.Name = raw.Name;
  if (typeof raw.VersionId === 'string') answer.VersionId = raw.VersionId;
  if (Array.isArray(raw.VersionStages)) answer.VersionStages = raw.VersionStages.filter((s): s is string => typeof s === 'string');
  // The extension writes an ISO date; the API's JSON protocol, epoch seconds.
  if (typeof raw.CreatedDate === 'string' || typeof raw.CreatedDate === 'number') {
    const created = new Date(typeof raw.CreatedDate === 'number' ? raw.CreatedDate * 1000 : raw.CreatedDate);
    if (!Number.isNaN(created.getTime())) answer.CreatedDate = created;
  }
  if (typeof raw.SecretString === 'string') answer.SecretString = raw.SecretString;
  if (typeof raw.SecretBinary === 'string') answer.SecretBinary = new Uint8Array(Buffer.from(raw.SecretBinary, 'base64'));
  return answer;
}

/** The body parsed as JSON, or undefined when it is not JSON. */
function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
