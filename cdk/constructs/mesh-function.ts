import { fileURLToPath } from 'node:url';
import { Arn, ArnFormat, Stack, Validations, type Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, ParamsAndSecretsLayerVersion, ParamsAndSecretsVersions, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { NamespaceType, type INamespace } from 'aws-cdk-lib/aws-servicediscovery';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { CircuitBreakerConfig } from '../../shared/config/mesh-config.js';
import { ConfigError } from '../../shared/errors.js';
import { DEFAULT_METRICS_NAMESPACE } from '../../shared/observability/metric-names.js';
import { lambdaBundling, runtimeEnvironment, type FunctionBundlingOptions } from '../bundling/function-bundling.js';

/** The checkout's root: entries, the lock file and tsconfig.json are found from here. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MeshFunctionProps extends FunctionBundlingOptions {
  /** The handler file relative to the project root, e.g. `functions/grant-entitlements/handler.ts`; it exports `handler`. */
  readonly entry: string;
  /** `POWERTOOLS_SERVICE_NAME`: the `service` of its log lines and the dimension of its own metrics. */
  readonly serviceName: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL`. */
  readonly logLevel: string;
  /** The mesh's VPC and the security group the function's network interfaces get. */
  readonly vpc: IVpc;
  readonly securityGroup: ISecurityGroup;
  /** The instruction set; `arm64` unless set. */
  readonly architecture?: 'arm64' | 'x86_64';
  /** Present when the function calls mesh services: its identity, discovery and call policy. */
  readonly mesh?: MeshMembership;
  /** Present when every secret is read through the AWS Parameters and Secrets Lambda Extension. */
  readonly secretsExtension?: SecretsExtension;
}

/**
 * The AWS Parameters and Secrets Lambda Extension: a layer whose process runs beside the function
 * in its sandbox, answers `GetSecretValue` on localhost and caches the answer, so that a cold start
 * reads its secrets without loading the SDK's Secrets Manager client.
 */
export interface SecretsExtension {
  /** `SECRETS_MANAGER_TTL`: how long it serves a secret from its cache (AWS allows 0 to 300 s). */
  readonly cacheTtl: Duration;
}

/** The extension's version: the newest CDK knows (its layer ARNs per region and architecture). */
export const SECRETS_EXTENSION_VERSION = ParamsAndSecretsVersions.V1_0_103;

/** What a function needs to call mesh services. */
export interface MeshMembership {
  /** `SERVICE_MESH_SPIFFE_ID`: the ID the function's SVID carries. */
  readonly spiffeId: string;
  /** The secret SPIRE keeps the SVID in (`SVID_SECRET_ID`); referenced, never created here. */
  readonly svidSecret: ISecret;
  /** `SERVICE_MESH_DISCOVERY_NAMESPACE`: the Cloud Map namespace, also the DNS domain. */
  readonly namespace: INamespace;
  readonly discoveryScheme: string;
  /** `SERVICE_MESH_DISCOVERY_DNS_FIRST`: DNS before the Cloud Map API; refused for an HTTP namespace. Default false. */
  readonly discoveryDnsFirst?: boolean;
  readonly mtlsEnabled: boolean;
  readonly circuitBreaker: CircuitBreakerConfig;
  /** The fleet's shared breakers (`MESH_STATE_TABLE`, …); breakers stay per container when absent. */
  readonly sharedBreaker?: SharedBreakerMembership;
  readonly services: readonly MeshServiceTarget[];
}

/** Where and how the fleet shares its breakers. */
export interface SharedBreakerMembership {
  readonly table: ITable;
  /** `CIRCUIT_BREAKER_SHARED`: false keeps the table named but the breakers per container. */
  readonly enabled: boolean;
  readonly readSeconds: number;
  readonly slowStartSeconds: number;
}

/** One mesh service the function calls (`EXTERNAL_SERVICES_<key>_*`). */
export interface MeshServiceTarget {
  /** The `<key>` of its variables, e.g. `CONTACT_SERVICE`. */
  readonly key: string;
  /** Its Cloud Map service name and DNS label, e.g. `contact-service`. */
  readonly name: string;
  /** The SPIFFE ID its server certificate must carry. */
  readonly spiffeId: string;
  /** Static `host:port`, the last discovery fallback. */
  readonly address?: string;
  readonly timeoutSeconds: number;
}

/** How much of a table a function may touch. */
export type TableAccess = 'read' | 'readWrite';

/**
 * The house Lambda function: Node.js 24 on arm64 (or `architecture`), X-Ray active, its own log
 * group, an ESM bundle built locally by esbuild as `cdk/bundling/function-bundling.ts` declares
 * (minified but for line breaks, names kept, its source map beside it and applied only with
 * `sourceMaps`, the AWS SDK the runtime's unless `bundleAwsSdk`, V8's compile cache with
 * `compileCache`), running in the mesh's VPC; with `secretsExtension`, it reads its secrets
 * through the Parameters and Secrets extension's layer.
 *
 * Permissions and configuration travel together: every `use…` method grants exactly what the
 * function needs on one resource and sets the environment variable that names it, so a function
 * can never hold a grant it cannot find, nor a name it may not use.
 */
export class MeshFunction extends NodejsFunction {
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: MeshFunctionProps) {
    // The log group is a sibling: it must exist before `super()`, and `this` cannot own it yet.
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
    super(scope, id, {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: props.architecture === 'x86_64' ? Architecture.X86_64 : Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup,
      vpc: props.vpc,
      securityGroups: [props.securityGroup],
      // CDK's own wiring: the layer of this region and architecture, and the extension's variables
      // (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, `SECRETS_MANAGER_TTL`, …), which the function reads too.
      ...(props.secretsExtension
        ? { paramsAndSecrets: ParamsAndSecretsLayerVersion.fromVersion(SECRETS_EXTENSION_VERSION, { secretsManagerTtl: props.secretsExtension.cacheTtl }) }
        : {}),
      bundling: lambdaBundling({
        bundleAwsSdk: props.bundleAwsSdk,
        compileCache: props.compileCache,
        // xDS: grpc-js-xds is required at run time (not bundled), reads its Envoy protos from disk
        // and must register into the same grpc-js the mesh layer uses, so both ship as modules.
        ...(props.mesh?.discoveryScheme === 'xds' ? { nodeModules: ['@grpc/grpc-js', '@grpc/grpc-js-xds'] } : {}),
      }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        ...runtimeEnvironment({ sourceMaps: props.sourceMaps, compileCache: props.compileCache }),
        ...(props.secretsExtension ? { SECRETS_MANAGER_ACCESS: 'extension' } : {}),
      },
    });
    this.serviceName = props.serviceName;

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWS-maintained minimum for writing the function\'s logs; the log group itself is the function\'s own.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'AWS-maintained minimum for the network interfaces a function in a VPC needs; those EC2 actions support no resource scoping.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      },
    );

    if (props.mesh) this.#joinMesh(props.mesh);
  }

  /**
   * Lets the function read `secret` (`secretsmanager:GetSecretValue` on exactly its ARN, and
   * `kms:Decrypt` through Secrets Manager when it has its own key) and names it in `variable`.
   * A secret referenced by name matches as `<name>-??????`, the suffix Secrets Manager appends.
   */
  useSecret(secret: ISecret, variable: string): Grant {
    this.addEnvironment(variable, secret.secretFullArn ?? secret.secretName);
    const grant = Grant.addToPrincipal({
      grantee: this,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    });
    if (secret.encryptionKey) {
      const { region } = Arn.split(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME);
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secret.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region ?? Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    return grant;
  }

  /** Lets the function read (or read and write) the items of `table` and names it in `variable`. */
  useTable(table: ITable, variable: string, access: TableAccess): Grant {
    this.addEnvironment(variable, table.tableName);
    return access === 'read' ? table.grantReadData(this) : table.grantReadWriteData(this);
  }

  /** Lets the function send to `queue` and puts its URL in `variable`. */
  useQueue(queue: IQueue, variable: string): Grant {
    this.addEnvironment(variable, queue.queueUrl);
    return queue.grantSendMessages(this);
  }

  /** The mesh's environment, the SVID secret, and discovery of exactly the services it calls. */
  #joinMesh(mesh: MeshMembership): void {
    const environment: Record<string, string> = {
      SERVICE_MESH_ENABLED: 'true',
      SERVICE_MESH_SPIFFE_ID: mesh.spiffeId,
      SERVICE_MESH_DISCOVERY_NAMESPACE: mesh.namespace.namespaceName,
      SERVICE_MESH_DISCOVERY_SCHEME: mesh.discoveryScheme,
      SERVICE_MESH_DISCOVERY_DNS_FIRST: String(dnsFirstOf(mesh)),
      MTLS_ENABLED: String(mesh.mtlsEnabled),
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: String(mesh.circuitBreaker.failureThreshold),
      CIRCUIT_BREAKER_SUCCESS_THRESHOLD: String(mesh.circuitBreaker.successThreshold),
      CIRCUIT_BREAKER_TIMEOUT_SECONDS: String(mesh.circuitBreaker.timeoutSeconds),
      CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: String(mesh.circuitBreaker.halfOpenMaxCalls),
    };
    for (const service of mesh.services) {
      const prefix = `EXTERNAL_SERVICES_${service.key}_`;
      environment[`${prefix}NAME`] = service.name;
      environment[`${prefix}SPIFFE_ID`] = service.spiffeId;
      environment[`${prefix}TIMEOUT_SECONDS`] = String(service.timeoutSeconds);
      if (service.address !== undefined) environment[`${prefix}ADDRESS`] = service.address;
    }
    for (const [name, value] of Object.entries(environment)) this.addEnvironment(name, value);
    this.useSecret(mesh.svidSecret, 'SVID_SECRET_ID');
    this.#allowDiscovery(mesh.namespace, mesh.services.map((s) => s.name));
    if (mesh.sharedBreaker) this.useMeshState(mesh.sharedBreaker);
  }

  /**
   * Shares the function's breakers with the fleet: GetItem and UpdateItem (all the breaker does)
   * on exactly the `mesh-state` table, and the `MESH_STATE_TABLE` / `CIRCUIT_BREAKER_SHARED*`
   * environment.
   */
  useMeshState(shared: SharedBreakerMembership): Grant {
    this.addEnvironment('MESH_STATE_TABLE', shared.table.tableName);
    this.addEnvironment('CIRCUIT_BREAKER_SHARED', String(shared.enabled));
    this.addEnvironment('CIRCUIT_BREAKER_SHARED_READ_SECONDS', String(shared.readSeconds));
    this.addEnvironment('CIRCUIT_BREAKER_SLOW_START_SECONDS', String(shared.slowStartSeconds));
    return shared.table.grant(this, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  }

  /**
   * `DiscoverInstances` (and its cheap `…Revision` check) of the named services in one namespace.
   * Per the Service Authorization Reference both actions authorise against the namespace and the
   * service, and take the condition keys `servicediscovery:NamespaceName` and `…:ServiceName`
   * (`servicediscovery:NamespaceArn` exists only for `CreateService`). The namespace's ARN is exact;
   * services are addressed by generated IDs the mesh does not publish, so the service ARN is a
   * wildcard inside the namespace's account and region, and the names are pinned by condition.
   */
  #allowDiscovery(namespace: INamespace, serviceNames: readonly string[]): void {
    const { partition, region, account } = Arn.split(namespace.namespaceArn, ArnFormat.SLASH_RESOURCE_NAME);
    const services = `arn:${partition}:servicediscovery:${region}:${account}:service/*`;
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
        resources: [namespace.namespaceArn, services],
        conditions: {
          StringEquals: {
            'servicediscovery:NamespaceName': namespace.namespaceName,
            'servicediscovery:ServiceName': [...serviceNames],
          },
        },
      }),
    );
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${services}]`,
      reason:
        'Cloud Map service ARNs carry generated IDs the mesh does not publish; the wildcard stays inside the namespace\'s account and region and the condition pins namespace and service names.',
    });
  }
}

/**
 * Whether the function resolves through DNS first. Refused for an HTTP namespace (Cloud Map writes
 * no DNS records there, so every lookup would miss and then ask the API anyway) and for a scheme
 * other than cloudmap (the function would refuse it at init).
 *
 * @throws {ConfigError} `CONFIG_INVALID` naming the namespace or the scheme.
 */
function dnsFirstOf(mesh: MeshMembership): boolean {
  const dnsFirst = mesh.discoveryDnsFirst ?? false;
  if (!dnsFirst) return false;
  if (mesh.namespace.type === NamespaceType.HTTP) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `discoveryDnsFirst must be false for an http namespace (it has no dns records), got true with namespace ${JSON.stringify(mesh.namespace.namespaceName)} of type ${mesh.namespace.type}`,
    );
  }
  if (mesh.discoveryScheme !== 'cloudmap') {
    throw new ConfigError('CONFIG_INVALID', `discoveryDnsFirst must be false unless discoveryScheme is cloudmap, got true with discoveryScheme ${JSON.stringify(mesh.discoveryScheme)}`);
  }
  return true;
}
