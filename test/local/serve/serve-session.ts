/**
 * `npm run serve` once its command line is read: start the dependencies (as the invoke CLI does),
 * the function containers, the event source mapping, the schedule, the HTTP API with the console,
 * the Invoke API and the code watcher; {@link ServeHandle.close} stops all of it.
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTION_NAMES } from '../invoke-options.js';
import { LocalSetupError, LOCAL_QUEUE_NAME, startLocalDependencies, type LocalDependencies } from '../local-dependencies.js';
import { renderLogLine, type LogFormat } from '../log-rendering.js';
import { LOCAL_ACCOUNT_ID, queueArnOf } from '../sqs-event.js';
import { BAD_REQUEST } from './api-gateway-v2.js';
import { watchCode } from './code-watcher.js';
import { deployedConfig, deployedVisibilityTimeoutSeconds, FUNCTION_SETTINGS, functionEnvironment, PROJECT_ROOT } from './deployed-settings.js';
import type { ConsoleSources } from './console-state.js';
import { EventSourceMapping } from './event-source-mapping.js';
import { mappingUuid, type MappingEntry } from './event-source-mapping-api.js';
import { FailureReasons } from './failure-reasons.js';
import { FunctionPool, type FunctionDefinition } from './function-pool.js';
import { HTTP_ROUTES } from './http-routes.js';
import { serveHttpRequest } from './http-api.js';
import { InvocationHistory } from './invocation-history.js';
import { serveInvokeRequest } from './lambda-invoke-api.js';
import { localMappedQueue, sdkMappedQueue, type MappedQueue } from './mapped-queue.js';
import { startSchedule } from './schedule.js';
import type { ServeOptions } from './serve-options.js';
import { reportToTerminal } from './terminal-report.js';

const STATE_DIRECTORIES = ['pki', 'dynamodb', 'sqs', 'serve'];

export interface ServeIo {
  /** serve's own progress lines. */
  say(line: string): void;
  /** Everything the terminal report writes. */
  write(text: string): void;
  format: LogFormat;
}

export interface ServeHandle {
  readonly httpUrl: string;
  readonly invokeUrl: string;
  readonly history: InvocationHistory;
  close(): Promise<void>;
}

/** Listens on `host:port`. @throws {LocalSetupError} naming the port and the variable to change when it is taken. */
function listen(server: Server, host: string, port: number, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new LocalSetupError(`port ${port} on ${host} is in use (EADDRINUSE): stop what listens there, or set ${variable} to another port (0 picks a free one)`)
          : error,
      );
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Starts everything; resolves once both servers listen.
 *
 * @throws {LocalSetupError} when the settings cannot work (a port in use, a bad context value…);
 *   whatever had started is stopped first.
 */
export async function startServe(options: ServeOptions, io: ServeIo, env: NodeJS.ProcessEnv = process.env): Promise<ServeHandle> {
  const startedAt = new Date().toISOString();
  const localDir = env.PAYMENT_FUNCTIONS_LOCAL_DIR || join(new URL(PROJECT_ROOT).pathname, '.local');
  if (options.reset) {
    await Promise.all(STATE_DIRECTORIES.map((d) => rm(join(localDir, d), { recursive: true, force: true })));
    io.say(`reset: wiped ${STATE_DIRECTORIES.map((d) => join(localDir, d)).join(', ')}`);
  }
  const config = await deployedConfig(options.context);
  const closers: (() => Promise<unknown> | unknown)[] = [];
  // Triggers stop first, without waiting: an invocation in flight ends when its container is
  // retired, so Ctrl-C never waits out a function's timeout.
  const halters: (() => void)[] = [];
  /** Awaited once everything else is closed: triggers settling what was in flight. */
  const settles: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const halt of halters.splice(0)) halt();
    for (const closeOne of closers.splice(0).reverse()) await closeOne();
    await Promise.all(settles.splice(0).map((settle) => settle()));
  };
  try {
    const deps: LocalDependencies = await startLocalDependencies({ env, localDir, needs: { webhook: true, queue: true, mesh: true, table: true }, log: (line) => io.say(line) });
    closers.push(() => deps.close());
    const region = env.AWS_REGION ?? 'us-east-1';

    const history = new InvocationHistory();
    closers.push(reportToTerminal(history, { format: io.format, level: options.logLevel, write: io.write }));
    const pools = new Map<string, FunctionPool>();
    for (const name of FUNCTION_NAMES) {
      const definition: FunctionDefinition = {
        name,
        modulePath: new URL(`functions/${name}/handler.ts`, PROJECT_ROOT).href,
        ...FUNCTION_SETTINGS[name](config),
        region,
        env: functionEnvironment(name, env, FUNCTION_SETTINGS[name](config).memoryMb),
      };
      const pool = new FunctionPool(definition, history);
      pool.onInitLog((line) => io.write(`${io.format === 'pretty' ? renderLogLine(line, { colour: true, functionName: name }) : line}\n`));
      pools.set(name, pool);
      closers.push(() => pool.close());
    }

    // The event source mapping on the stack's queue knobs.
    const batchingWindow = config.queueMaxBatchingWindowSeconds;
    const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? deployedVisibilityTimeoutSeconds(config);
    let queue: MappedQueue;
    if (deps.sqs) {
      const deadLetters = `${LOCAL_QUEUE_NAME}-dlq`;
      deps.sqs.store.setAttributes(LOCAL_QUEUE_NAME, {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deps.sqs.queueArn(deadLetters), maxReceiveCount: config.queueMaxReceiveCount }),
      });
      queue = localMappedQueue(deps.sqs, LOCAL_QUEUE_NAME, deadLetters);
    } else {
      const client = new SQSClient({});
      closers.push(() => client.destroy());
      queue = sdkMappedQueue(client, env.QUEUE_URL!, region);
    }
    const reasons = new FailureReasons(join(localDir, 'serve', 'failure-reasons.json'));
    const mapping = new EventSourceMapping({
      queue,
      pool: pools.get('grant-entitlements')!,
      batchSize: config.queueBatchSize,
      maxBatchingWindowSeconds: batchingWindow,
      visibilityTimeoutSeconds,
      onRecordFailed: (messageId, reason, receiveCount) => {
        reasons.record(messageId, reason, receiveCount);
        const last = receiveCount >= config.queueMaxReceiveCount;
        io.say(`queue: record ${messageId} failed (receive ${receiveCount} of ${config.queueMaxReceiveCount}): ${reason}; ${last ? 'it moves to the dead-letter queue on the next receive' : `received again once visible (visibility timeout ${visibilityTimeoutSeconds} s, unless the function changed it)`}`);
      },
      onError: (error) => io.say(`queue: polling ${queue.url} failed: ${(error as Error).message}`),
    });
    halters.push(() => mapping.halt());
    settles.push(() => mapping.stop());


    const mappings: MappingEntry[] = [
      {
        mapping,
        functionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:grant-entitlements`,
        eventSourceArn: queueArnOf(queue.url, region),
      },
    ];
    io.say(`event source mapping: ${queue.url} -> grant-entitlements, batch ${config.queueBatchSize}, window ${batchingWindow} s, visibility ${visibilityTimeoutSeconds} s, dead-letter queue after ${config.queueMaxReceiveCount} receives, partial batch responses (UUID ${mappingUuid(mappings[0]!.eventSourceArn, mappings[0]!.functionArn)})`);

    const dynamo = new DynamoDBClient({});
    closers.push(() => dynamo.destroy());
    const consoleSources: ConsoleSources = {
      history,
      pools,
      mapping,
      reasons,
      maxReceiveCount: config.queueMaxReceiveCount,
      dynamo: { client: dynamo, table: env.ENTITLEMENTS_TABLE! },
      startedAt,
      meshHealthEverySeconds: options.meshHealthEverySeconds,
    };
    const report = (line: string) => io.say(line);

    const httpServer = createServer((request, response) => {
      serveHttpRequest(request, response, { pools, console: consoleSources, report }).catch((error: unknown) => {
        report(`http api: ${request.method} ${request.url}: ${(error as Error).message}`);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      });
    });
    const invokeServer = createServer((request, response) => {
      serveInvokeRequest(request, response, { pools, region, accountId: LOCAL_ACCOUNT_ID, mappings, report }).catch((error: unknown) => {
        report(`invoke api: ${request.method} ${request.url}: ${(error as Error).message}`);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' }).end(JSON.stringify({ Type: 'Service', message: (error as Error).message }));
      });
    });
    // A request Node cannot parse gets API Gateway's 400, and serve keeps running.
    for (const [server, name] of [[httpServer, 'http api'], [invokeServer, 'invoke api']] as const) {
      server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
        report(`${name}: malformed request (${error.code ?? error.message}): answered 400`);
        if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${BAD_REQUEST.body.length}\r\nconnection: close\r\n\r\n${BAD_REQUEST.body.toString()}`);
      });
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
    }
    const httpPort = await listen(httpServer, options.host, options.port, 'PORT');
    const invokePort = await listen(invokeServer, options.host, options.lambdaPort, 'LAMBDA_PORT');
    const httpUrl = `http://${options.host}:${httpPort}`;
    const invokeUrl = `http://${options.host}:${invokePort}`;
    // A function's Lambda client (UpdateEventSourceMapping) reaches the local API, unless pointed elsewhere.
    if (!env.AWS_ENDPOINT_URL_LAMBDA?.trim()) for (const pool of pools.values()) pool.definition.env.AWS_ENDPOINT_URL_LAMBDA = invokeUrl;
    // mesh-health pauses and resumes this mapping while the fleet's breaker is open (issue #16).
    if (!env.GRANT_EVENT_SOURCE_MAPPING_ID?.trim()) {
      for (const pool of pools.values()) pool.definition.env.GRANT_EVENT_SOURCE_MAPPING_ID = mappingUuid(mappings[0]!.eventSourceArn, mappings[0]!.functionArn);
    }
    // Triggers start once the functions' environment is complete.
    mapping.start();
    if (options.meshHealthEverySeconds > 0) {
      const stopSchedule = startSchedule({ pool: pools.get('mesh-health')!, everySeconds: options.meshHealthEverySeconds, region });
      let stopped: Promise<void> | undefined;
      halters.push(() => void (stopped = stopSchedule()));
      settles.push(() => stopped ?? stopSchedule());
      io.say(`schedule: mesh-health every ${options.meshHealthEverySeconds} s (deployed: every ${config.meshHealthScheduleMinutes} min)`);
    }
    for (const route of HTTP_ROUTES) {
      io.say(`http api: ${route.routeKey} -> ${route.functionName}${route.authorization === 'iam' ? ' (deployed behind IAM auth: NOT emulated here, requests are not SigV4-checked)' : ''}`);
    }

    if (options.watch) {
      closers.push(
        watchCode({
          root: new URL(PROJECT_ROOT).pathname,
          onChange: (files) => {
            for (const pool of pools.values()) pool.retireAll();
            io.say(`code changed (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''}): the next invocation of every function cold-starts the new code`);
          },
        }),
      );
    }
    return { httpUrl, invokeUrl, history, close };
  } catch (error) {
    await close();
    throw error;
  }
}
