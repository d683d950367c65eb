/**
 * The invoke CLI's command line: `<function> [--event <file|json|->] [--follow] [--reset]
 * [--resign|--no-resign] [--timeout <s>]`, and the usage text that documents it and every
 * environment variable it honours.
 */
import { forEachArgument, UsageError } from './command-line-arguments.js';
import type { ResignMode } from './webhook-delivery.js';

export const FUNCTION_NAMES = ['payment-webhook', 'grant-entitlements', 'get-user-info', 'mesh-health'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface InvokeOptions {
  functionName: FunctionName;
  /** A file path, inline JSON (starts with `{` or `[`), or `-` for stdin; the default event when absent. */
  event?: string;
  /** payment-webhook only: then run grant-entitlements on what the queue holds. */
  follow: boolean;
  /** Wipe the local state (`pki/`, `dynamodb/`, `sqs/`) first. */
  reset: boolean;
  resign: ResignMode;
  /** The Lambda timeout: the context's remaining time counts down from it. */
  timeoutSeconds: number;
  /** get-user-info only: call over HTTP as this SPIFFE ID, with a freshly minted JWT-SVID. */
  as?: string;
}

export const INVOKE_DEFAULTS = { follow: false, reset: false, resign: 'auto', timeoutSeconds: 30 } as const satisfies Partial<InvokeOptions>;

export { UsageError };

export type ParsedCommandLine = { help: true } | { help: false; options: InvokeOptions };

/** Parses the arguments after `--`. @throws {UsageError} naming the bad argument. */
export function parseInvokeArgs(args: readonly string[]): ParsedCommandLine {
  if (args.includes('--help') || args.includes('-h')) return { help: true };
  const options: Partial<InvokeOptions> = {};
  const positional: string[] = [];
  forEachArgument(args, (flag, value, arg) => {
    switch (flag) {
      case '--event':
        options.event = value();
        break;
      case '--follow':
        options.follow = true;
        break;
      case '--reset':
        options.reset = true;
        break;
      case '--resign':
        options.resign = 'always';
        break;
      case '--no-resign':
        options.resign = 'never';
        break;
      case '--as': {
        const id = value();
        if (!/^spiffe:\/\/[^/\s]+\/\S+$/.test(id)) throw new UsageError(`--as must be a workload's SPIFFE ID (spiffe://<trust domain>/<path>), got "${id}"`);
        options.as = id;
        break;
      }
      case '--timeout': {
        const raw = value();
        const seconds = Number(raw);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${raw}"`);
        options.timeoutSeconds = seconds;
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  });
  const [name, ...extra] = positional;
  if (name === undefined) throw new UsageError('which function? name one');
  if (!(FUNCTION_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown function "${name}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (options.follow && name !== 'payment-webhook') throw new UsageError('--follow applies to payment-webhook only');
  if (options.as !== undefined && name !== 'get-user-info') throw new UsageError('--as applies to get-user-info only');
  return { help: false, options: { ...INVOKE_DEFAULTS, ...options, functionName: name as FunctionName } };
}

const USAGE_LINE = 'usage: npm run -s invoke -- <function> [--event <file|json|->] [--follow] [--as <spiffe id>] [--resign|--no-resign] [--timeout <s>] [--reset]';

/** What a bad command line gets on stderr: the synopsis and the function names. */
export const SHORT_USAGE = `${USAGE_LINE}
functions: ${FUNCTION_NAMES.join(', ')}
run with --help for every option and the environment it honours
`;

export const INVOKE_USAGE = `${USAGE_LINE}

Runs one function's real handler in this process, with a Lambda-shaped context, and prints the
handler's return value as ONE JSON document on stdout; everything else (progress, the handlers'
Powertools logs and metrics) goes to stderr. (-s keeps npm's own "> payment-functions@…" banner
off stdout.)

functions:
  payment-webhook      API Gateway event carrying a Stripe delivery -> queues an entitlement command
  grant-entitlements   SQS batch event -> grants or revokes for the purchaser's family
  get-user-info        {"userId":"user-1"} or an API Gateway GET /users/{userId} event
  mesh-health          scheduled EventBridge event -> per-service health report

options:
  --event <file|json|->  the event: a JSON file (relative to where you ran npm), inline JSON, or
                         - for stdin. Default per function:
                           payment-webhook     the sample checkout.session.completed for user-1
                                               (test/fixtures/events/stripe/latest/), fresh, signed now
                           grant-entitlements  everything visible on the queue, as one SQS batch
                                               (records the handler does not report as failed are
                                               then deleted; failed ones come back after the
                                               visibility timeout, 5 s locally)
                           get-user-info       {"userId":"user-1"}
                           mesh-health         a scheduled EventBridge event
  --follow               payment-webhook only: then run grant-entitlements on what is queued;
                         stdout is {"webhook": <result>, "grants": <result>}
  --as <spiffe id>       get-user-info: call GET /users/{userId} over HTTP as this mesh workload,
                         with a JWT-SVID minted now by the local JWT authority (<local>/pki/jwt);
                         unless set, JWT_SVID_AUDIENCE (the functions' SPIFFE ID),
                         JWT_SVID_ALLOWED_IDS (contact-, family-, document-service) and
                         JWT_SVID_BUNDLE_FILE (the authority's bundle) are set to trust it
  --resign               payment-webhook: always compute the Stripe-Signature again
  --no-resign            payment-webhook: send the event exactly as given
                         (default: a bare Stripe event is wrapped in a signed API Gateway v2
                         event; a Stripe-Signature older than WEBHOOK_TOLERANCE_SECONDS (300) is
                         computed again, with a WARNING on stderr, so stored samples keep
                         working; signing uses WEBHOOK_SIGNING_SECRET)
  --timeout <seconds>    the Lambda timeout (default 30): getRemainingTimeInMillis counts down
                         from it, and a handler still running then fails with Task.TimedOut
  --reset                wipe the local state (dev PKI, dynalite data, queue) first
  -h, --help             this text

exit status: 0 the handler returned; 1 it threw (stderr: "<code>: <message>", stdout: the error
as Lambda reports it, {"errorType","errorCode","errorMessage"}) or a dependency failed to start;
2 bad command line or settings.

dependencies, started in this process only where the environment does not point elsewhere;
a variable you set is never changed:
  SVID                 SVID_DIR (spiffe-helper files) or SVID_SECRET_ID (Secrets Manager);
                       else a dev CA and SVIDs kept in <local>/pki, reused while valid
  contact-service      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS or SERVICE_MESH_DISCOVERY_SCHEME
                       or CONFIG_FILE; else the reference contact-service on 127.0.0.1 over mTLS
                       as spiffe://jia.app/contact-service, for the duration of the invoke
  entitlements table   AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL (table created if missing),
                       or ENTITLEMENTS_TABLE
                       with AWS_REGION and credentials (AWS); else dynalite with its data in
                       <local>/dynamodb; table ENTITLEMENTS_TABLE (default entitlements)
  queue                QUEUE_URL (any SQS endpoint; AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL honoured);
                       else the local SQS emulator with its data in <local>/sqs
  signing secret       WEBHOOK_SIGNING_SECRET or WEBHOOK_SIGNING_SECRET_ID; else a dev secret

environment honoured:
  mesh        SERVICE_MESH_ENABLED, SERVICE_MESH_SPIFFE_ID, SERVICE_MESH_DISCOVERY_NAMESPACE,
              SERVICE_MESH_DISCOVERY_SCHEME, SERVICE_MESH_DISCOVERY_DNS_SERVERS,
              SERVICE_MESH_DISCOVERY_TTL_SECONDS, SERVICE_MESH_DISCOVERY_DNS_FIRST,
              MTLS_ENABLED, SVID_DIR, SVID_SECRET_ID,
              EXTERNAL_SERVICES_<NAME>_{NAME,ADDRESS,SPIFFE_ID,TIMEOUT_SECONDS,MAX_CONCURRENT_CALLS},
              [EXTERNAL_SERVICES_<NAME>_]CIRCUIT_BREAKER_{FAILURE_THRESHOLD,SUCCESS_THRESHOLD,
              TIMEOUT_SECONDS,HALF_OPEN_MAX_CALLS},
              CONFIG_FILE (then no mesh defaults are added: the file is the configuration)
  functions   QUEUE_URL, WEBHOOK_SIGNING_SECRET, WEBHOOK_SIGNING_SECRET_ID,
              WEBHOOK_TOLERANCE_SECONDS, ENTITLEMENTS_TABLE, STRIPE_ENTITLEMENT_MAP,
              STRIPE_DEFAULT_ENTITLEMENT, STRIPE_REVOKE_ON_REFUND, STRIPE_REVOKE_ON_DISPUTE,
              STRIPE_PAST_DUE_GRACE_SECONDS, JWT_SVID_AUDIENCE, JWT_SVID_ALLOWED_IDS,
              JWT_SVID_BUNDLE_FILE, JWT_SVID_BUNDLE_URL, JWT_SVID_BUNDLE_FORMAT,
              JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID, JWT_SVID_FEDERATED_BUNDLE_URLS
  AWS SDK     AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS_ACCESS_KEY_ID,
              AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ... (when nothing points at
              AWS, AWS_REGION=us-east-1 and dummy credentials are added for the local endpoints)
  logs        PAYMENT_FUNCTIONS_LOG_FORMAT: pretty (the default on a terminal: level, function,
              message, key fields) or json (the default when stderr is piped: the raw lines)
  Powertools  POWERTOOLS_LOG_LEVEL, POWERTOOLS_SERVICE_NAME (default: the function's name;
              payment-functions with --follow, as both handlers share one logger in-process),
              POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED, ...
  local       PAYMENT_FUNCTIONS_LOCAL_DIR: where <local> state lives (default .local in the project)

examples:
  npm run -s invoke -- payment-webhook --follow
  npm run -s invoke -- get-user-info --event '{"userId":"user-2"}'
  npm run -s invoke -- payment-webhook --event test/fixtures/events/payment-webhook.subscription-deleted.json
  npm run -s invoke -- payment-webhook --event test/fixtures/events/stripe/latest/charge.refunded.json --follow
  npm run -s invoke -- mesh-health | jq '.services'
  npm run -s invoke -- get-user-info --as spiffe://jia.app/family-service
`;
