/**
 * The benchmark's side of its server process (`contact-server.ts`): starting it, asking it for
 * counts and faults, and the deployment environment of a function pointed at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OFFLINE_AWS_CREDENTIALS } from '../fixtures/offline-aws-credentials.js';
import type { ContactServiceFault } from '../local/contact-service.js';

export const FUNCTIONS_ID = 'spiffe://jia.app/payment-functions';
export const CONTACT_ID = 'spiffe://jia.app/contact-service';
export const SVID_SECRET_ID = 'payment-functions/svid';
export const ENTITLEMENTS_TABLE = 'entitlements';
export const CLOUD_MAP_NAMESPACE = 'mesh.local';
/** The sandbox's `AWS_SESSION_TOKEN` under `svid: 'extension'`: the token the extension stand-in demands. */
export const BENCH_SESSION_TOKEN = 'bench-session-token';

/** `fast`: no added latency; `slow`: +5 ms per call (fan-out); `faulty`: switched to fail (breaker). */
export type ContactServiceName = 'fast' | 'slow' | 'faulty';

/** What the server prints once ready. */
export interface BenchServerInfo {
  pid: number;
  /** `host:port` of each contact-service. */
  contact: Record<ContactServiceName, string>;
  /** spiffe-helper files of the function's SVID: `svid.pem`, `svid_key.pem`, `svid_bundle.pem`. */
  svidDir: string;
  /** `http://127.0.0.1:<port>`: `AWS_ENDPOINT_URL_DYNAMODB`. */
  dynamoEndpoint: string;
  /** `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_SERVICEDISCOVERY`; also `/bench/*`. */
  awsEndpoint: string;
  /** `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`: the Parameters and Secrets extension stand-in on loopback. */
  secretsExtensionPort: number;
  /**
   * `127.0.0.1:<port>` of a DNS server holding the records Cloud Map writes for the `fast`
   * contact-service in {@link CLOUD_MAP_NAMESPACE} (`SERVICE_MESH_DISCOVERY_DNS_SERVERS`).
   */
  dnsServer: string;
}

/** Counts since the server started. */
export interface BenchServerStats {
  /** Calls that reached each contact-service's handlers. */
  contactCalls: Record<ContactServiceName, number>;
  secretsManagerCalls: number;
  /** Requests the Parameters and Secrets extension stand-in answered (with the right token or not). */
  secretsExtensionCalls: number;
  cloudMapCalls: number;
  /** `UpdateItem`s answered by the latency-bound DynamoDB stand-in. */
  latencyStoreWrites: number;
}

/** The running server process. */
export interface BenchServer {
  readonly info: BenchServerInfo;
  /** Ends the server (closing its stdin) and waits for it to exit. */
  close(): Promise<void>;
}

const SERVER_ENTRY = fileURLToPath(new URL('./contact-server.ts', import.meta.url));

/**
 * Starts `contact-server.ts` in a child process (Node with tsx, as `npm run bench` itself runs)
 * and waits for the line describing it.
 *
 * @throws when the server exits before it is ready.
 */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<BenchServerInfo>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as BenchServerInfo));
    child.once('exit', (code) => reject(new Error(`the bench server exited with code ${code} before it was ready`)));
  });
  return {
    info,
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

/** The server's counts, asked over loopback (any benchmark process can). */
export async function serverStats(info: BenchServerInfo): Promise<BenchServerStats> {
  const response = await fetch(`${info.awsEndpoint}/bench/stats`);
  return (await response.json()) as BenchServerStats;
}

/** Switches a contact-service's fault (`{ kind: 'none' }` clears it). */
export async function setContactFault(info: BenchServerInfo, service: ContactServiceName, fault: ContactServiceFault): Promise<void> {
  await fetch(`${info.awsEndpoint}/bench/fault?service=${service}`, { method: 'POST', body: JSON.stringify(fault) });
}

/** How the function finds its SVID and the contact-service. */
export interface FunctionEnvironmentOptions {
  /**
   * `secret`: Secrets Manager through the SDK, as deployed by default; `extension`: the same secret
   * through the Parameters and Secrets extension (`secretsExtension`); `files`: spiffe-helper files (`SVID_DIR`).
   */
  svid: 'secret' | 'extension' | 'files';
  /**
   * `cloudmap`: Cloud Map (listing the `fast` service), as deployed; `dns-first`: the same chain
   * with DNS first (`SERVICE_MESH_DISCOVERY_DNS_FIRST`), DNS answering from the server's records
   * of the `fast` service; `static`: `contact`'s address.
   */
  discovery: 'cloudmap' | 'dns-first' | 'static';
  /** `dynalite`: a real DynamoDB implementation; `latency`: the stand-in that only waits per write. */
  store: 'dynalite' | 'latency';
  /** The contact-service behind the static address (the last fallback under `cloudmap`). */
  contact: ContactServiceName;
}

export const FUNCTION_ENVIRONMENT_DEFAULTS: FunctionEnvironmentOptions = { svid: 'secret', discovery: 'cloudmap', contact: 'fast', store: 'dynalite' };

/**
 * The environment a function is deployed with (the variables `cdk/constructs/mesh-function.ts`
 * sets), pointed at the bench server: AWS endpoints overridden, fake credentials, no shared AWS
 * config files read.
 */
export function functionEnvironment(info: BenchServerInfo, opts: Partial<FunctionEnvironmentOptions> = {}): Record<string, string> {
  const options = { ...FUNCTION_ENVIRONMENT_DEFAULTS, ...opts };
  const dnsFirst = options.discovery === 'dns-first';
  return {
    POWERTOOLS_SERVICE_NAME: 'bench-function',
    POWERTOOLS_METRICS_NAMESPACE: 'PaymentFunctions',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_DEV: '',
    AWS_REGION: 'us-east-1',
    ...OFFLINE_AWS_CREDENTIALS,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: info.awsEndpoint,
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: info.awsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: options.store === 'dynalite' ? info.dynamoEndpoint : info.awsEndpoint,
    BENCH_STORE: options.store,
    ENTITLEMENTS_TABLE,
    SERVICE_MESH_ENABLED: 'true',
    SERVICE_MESH_SPIFFE_ID: FUNCTIONS_ID,
    SERVICE_MESH_DISCOVERY_SCHEME: dnsFirst ? 'cloudmap' : options.discovery,
    SERVICE_MESH_DISCOVERY_NAMESPACE: CLOUD_MAP_NAMESPACE,
    ...(dnsFirst ? { SERVICE_MESH_DISCOVERY_DNS_FIRST: 'true', SERVICE_MESH_DISCOVERY_DNS_SERVERS: info.dnsServer } : {}),
    MTLS_ENABLED: 'true',
    ...svidEnvironment(info, options.svid),
    EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contact-service',
    EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: info.contact[options.contact],
    EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: CONTACT_ID,
    // What the bare handler reads: the same contact-service and the same PEM files.
    BARE_CONTACT_ADDRESS: info.contact[options.contact],
    BARE_SVID_DIR: info.svidDir,
  };
}

/** Where the SVID comes from, as `cdk/constructs/mesh-function.ts` (and `secretsExtension`) set it. */
function svidEnvironment(info: BenchServerInfo, svid: FunctionEnvironmentOptions['svid']): Record<string, string> {
  if (svid === 'files') return { SVID_DIR: info.svidDir, SVID_SECRET_ID: '' };
  if (svid === 'secret') return { SVID_SECRET_ID, SVID_DIR: '' };
  // The layer's variables as CDK's `paramsAndSecrets` sets them, and the sandbox's session token.
  return {
    SVID_SECRET_ID,
    SVID_DIR: '',
    SECRETS_MANAGER_ACCESS: 'extension',
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(info.secretsExtensionPort),
    SECRETS_MANAGER_TTL: '300',
    AWS_SESSION_TOKEN: BENCH_SESSION_TOKEN,
  };
}
