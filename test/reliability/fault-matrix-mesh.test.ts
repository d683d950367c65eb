/**
 * The fault matrix, mesh faults: the real grant-entitlements and get-user-info handlers (a fresh
 * container per test) against the local mesh and dynalite, with the contact-service down, slow,
 * flapping, restarted, stampeded while half-open, reached over a connection that died during a
 * freeze, or called with no time left. Records go through an SQS model with redelivery, so each
 * test ends with what a user sees: who holds which entitlement, once.
 */
import { status } from '@grpc/grpc-js';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MemberEntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import { createMeshStateTable } from '../../shared/resilience/shared-breaker/mesh-state-table.js';
import { MeshStateStore } from '../../shared/resilience/shared-breaker/mesh-state-store.js';
import {
  command,
  ENTITLEMENTS_TABLE,
  sqsEvent,
  startFunctionEnvironment,
  type FunctionEnvironment,
} from '../fixtures/function-environment.js';
import { apiGatewayV2Event } from '../fixtures/stripe.js';
import { startTcpProxy, type TcpProxy } from '../local/tcp-proxy.js';
import {
  auditTheWholeFile,
  auditedLogs,
  coldStart,
  context,
  freeze,
  loggedErrorCodes,
  outcomesLogged,
  sleep,
  timed,
  type GrantHandler,
} from './harness.js';
import { drainQueue, SimulatedSqs } from './simulated-sqs.js';

const FAMILY_1 = ['user-1', 'user-2', 'user-3'];
/** The table the fleet's shared breakers live in (only the test that names it shares them). */
const MESH_STATE = 'mesh-state';

let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let store: EntitlementStore;
const proxies: TcpProxy[] = [];
const logs = auditedLogs();

beforeAll(async () => {
  env = await startFunctionEnvironment();
  await createMeshStateTable(env.dynamo.client, MESH_STATE);
  base = { ...process.env };
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
});
afterEach(async () => {
  env.mesh.contact.setFault({ kind: 'none' });
  await env.mesh.contact.start(); // a test that stopped it and failed midway must not take the next one down
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await env.close();
});

/** Queues one entitlement command per entry (a fresh event id each). */
function enqueue(queue: SimulatedSqs, ...commands: MemberEntitlementCommand[]): MemberEntitlementCommand[] {
  for (const c of commands) queue.send(JSON.stringify(c));
  return commands;
}

/** One command per name, purchased by `purchaserId` (user-1: family-1, 3 members). */
function familyCommands(prefix: string, count: number, purchaserId = 'user-1'): MemberEntitlementCommand[] {
  return Array.from({ length: count }, (_, i) => command({ purchaserId, entitlement: `${prefix}-${i}` }));
}

const invoker = (grant: GrantHandler, remainingMs = 30_000) => (event: Parameters<GrantHandler>[0]) => grant(event, context(remainingMs));

/** The stored entitlement `name` of every user in `members`, as [status, eventId]. */
async function stateOf(members: readonly string[], name: string): Promise<([string, string] | undefined)[]> {
  return Promise.all(
    members.map(async (userId) => {
      const entitlement = (await store.list(userId)).find((e) => e.name === name);
      return entitlement && ([entitlement.status, entitlement.eventId] as [string, string]);
    }),
  );
}

/** Every event granted to all `members` (family-1 by default), each (event, member) applied exactly once. */
async function expectGrantedOnce(events: readonly MemberEntitlementCommand[], members: readonly string[] = FAMILY_1): Promise<void> {
  for (const event of events) {
    expect(await stateOf(members, event.entitlement)).toEqual(members.map(() => ['granted', event.eventId]));
    expect(outcomesLogged(logs.logs(), event.eventId).applied.sort()).toEqual([...members].sort());
  }
}

/** The attempts that reached the contact-service (attempt ≥ 1), by gRPC code, from the 'mesh call' lines. */
function attemptCodes(): string[] {
  return logs
    .logs()
    .filter((l) => l['message'] === 'mesh call' && Number(l['attempt']) >= 1)
    .map((l) => String(l['code']));
}

function httpGet(userId: string) {
  return { ...apiGatewayV2Event({ body: '' }), routeKey: 'GET /users/{userId}', pathParameters: { userId } };
}

describe('fault matrix: the contact-service misbehaves', () => {
  it('contact-service down: records fail MESH_UNAVAILABLE without a write, and are all granted once it is back', async () => {
    const grant = await coldStart('grant', base, { CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.5' });
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 1_500 });
    const events = enqueue(queue, ...familyCommands('down', 3));
    await env.mesh.contact.stop();
    const before = env.mesh.contact.callCount;

    const records = queue.receive(10);
    const response = await grant(sqsEvent(...records), context());
    queue.settle(records, response.batchItemFailures);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    const codes = records.flatMap((r) => loggedErrorCodes(logs.logs(), r.messageId));
    expect(codes).toHaveLength(3);
    expect(codes).toContain('MESH_UNAVAILABLE');
    // Once five attempts failed, the breaker opens and the rest fail fast instead.
    expect(codes.every((c) => c === 'MESH_UNAVAILABLE' || c === 'MESH_BREAKER_OPEN')).toBe(true);
    expect(env.mesh.contact.callCount).toBe(before);
    for (const event of events) expect(await stateOf(FAMILY_1, event.entitlement)).toEqual([undefined, undefined, undefined]);

    await env.mesh.contact.start();
    await drainQueue(queue, invoker(grant), { maxWaitMs: 15_000 });

    expect(queue.depth).toBe(0);
    expect(queue.deadLetters).toEqual([]);
    expect(queue.stats.redelivered).toBeGreaterThanOrEqual(3);
    await expectGrantedOnce(events);
  });

  it('contact-service slow past the deadline: the call ends at the Lambda deadline with MESH_DEADLINE_EXCEEDED, and the record is granted on redelivery', async () => {
    const grant = await coldStart('grant', base);
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 100 });
    const [event] = enqueue(queue, command({ entitlement: 'slow' }));
    env.mesh.contact.setFault({ kind: 'delay', ms: 5_000 });
    const before = env.mesh.contact.callCount;

    const records = queue.receive(10);
    // 1.5 s left, minus the 500 ms safety margin: the call's deadline is 1 s away.
    const { value, ms } = await timed(grant(sqsEvent(...records), context(1_500)));
    queue.settle(records, value?.batchItemFailures);

    expect(value?.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
    expect(loggedErrorCodes(logs.logs(), records[0]!.messageId)).toEqual(['MESH_DEADLINE_EXCEEDED']);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1_500); // answered before the Lambda would have been killed
    expect(env.mesh.contact.callCount - before).toBe(1); // no retry past the deadline
    expect(await stateOf(FAMILY_1, 'slow')).toEqual([undefined, undefined, undefined]);

    env.mesh.contact.setFault({ kind: 'none' });
    await drainQueue(queue, invoker(grant), { maxWaitMs: 10_000 });

    expect(queue.stats).toMatchObject({ received: 2, redelivered: 1, deleted: 1, movedToDlq: 0 });
    await expectGrantedOnce([event!]);
  });

  it('contact-service flapping (UNAVAILABLE and OK in turns): every record eventually succeeds, with redelivery', async () => {
    const grant = await coldStart('grant', base, { CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.2' });
    // The visibility timeout is out of phase with the 1.5 s flapping, as it would be: a record that
    // failed in one outage comes back in a different phase, at the latest on its third receive in
    // the middle of an up-time.
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 1_000 });
    const events = enqueue(queue, ...familyCommands('flapping', 30, 'user-solo'));
    // Down 300 ms, up 1.2 s, over and over, starting down: the first batches meet the outage.
    const flaps: string[] = [];
    let flapping = true;
    const flapper = (async () => {
      while (flapping) {
        env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
        flaps.push('down');
        await sleep(300);
        env.mesh.contact.setFault({ kind: 'none' });
        flaps.push('up');
        await sleep(1_200);
      }
    })();

    await drainQueue(queue, invoker(grant), { batchSize: 5, maxWaitMs: 30_000 });
    flapping = false;
    await flapper;

    const codes = attemptCodes();
    expect(queue.depth).toBe(0);
    expect(queue.deadLetters).toEqual([]);
    expect(queue.stats.redelivered).toBeGreaterThanOrEqual(5); // the first batch met the outage
    expect(codes).toContain('UNAVAILABLE');
    expect(flaps.length).toBeGreaterThanOrEqual(2);
    await expectGrantedOnce(events, ['user-solo']);
    expect(outcomesLogged(logs.logs()).duplicate).toEqual([]); // a lookup failure never follows a write
  });

  it('contact-service restarted mid-run: nothing is lost and every record is granted exactly once', async () => {
    const grant = await coldStart('grant', base, { CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.5' });
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 1_500 });
    const events = enqueue(queue, ...familyCommands('restart', 40));
    let restart: Promise<void> | undefined;

    await drainQueue(queue, invoker(grant), {
      batchSize: 5,
      maxWaitMs: 30_000,
      afterBatch: ({ number }) => {
        // Stopped while the third batch is in flight, listening again 400 ms later.
        if (number === 2) {
          restart = (async () => {
            await sleep(2);
            await env.mesh.contact.stop();
            await sleep(400);
            await env.mesh.contact.start();
          })();
        }
      },
    });
    await restart;

    expect(queue.depth).toBe(0);
    expect(queue.deadLetters).toEqual([]);
    expect(queue.stats.redelivered).toBeGreaterThanOrEqual(5);
    expect(queue.stats.deleted).toBe(40);
    await expectGrantedOnce(events);
  });

  it('half-open stampede: of 50 concurrent get-user-info calls when the breaker half-opens, at most 3 reach the service and the rest fail fast with MESH_BREAKER_OPEN', async () => {
    const userInfo = await coldStart('userInfo', base, { CIRCUIT_BREAKER_TIMEOUT_SECONDS: '0.5' });
    env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });
    const opening: string[] = [];
    for (let i = 0; i < 4 && opening.at(-1) !== 'MESH_BREAKER_OPEN'; i++) {
      const answer = (await userInfo(httpGet('user-2'), context())) as APIGatewayProxyResult;
      opening.push((JSON.parse(answer.body) as { error: { code: string } }).error.code);
    }
    expect(opening).toEqual(['MESH_UNAVAILABLE', 'MESH_UNAVAILABLE', 'MESH_BREAKER_OPEN']);
    await sleep(600); // past the breaker's 0.5 s: the next calls find it half-open
    env.mesh.contact.setFault({ kind: 'delay', ms: 1_500 }); // probes stay in flight while the stampede arrives
    const before = env.mesh.contact.callCount;

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => timed(userInfo(httpGet('user-2'), context()) as Promise<APIGatewayProxyResult>)),
    );

    const reached = env.mesh.contact.callCount - before;
    const ok = answers.filter((a) => a.value?.statusCode === 200);
    const rejected = answers.filter((a) => a.value?.statusCode === 503);
    expect(reached).toBeGreaterThanOrEqual(1);
    expect(reached).toBeLessThanOrEqual(3);
    expect(ok).toHaveLength(reached);
    expect(rejected).toHaveLength(50 - reached);
    for (const answer of rejected) {
      expect(JSON.parse(answer.value!.body)).toMatchObject({ error: { code: 'MESH_BREAKER_OPEN' } });
      expect(answer.value!.headers?.['retry-after']).toBe('1');
      expect(answer.ms).toBeLessThan(1_000); // failed fast, not after the probes' 1.5 s
    }
    for (const answer of ok) expect(answer.ms).toBeGreaterThanOrEqual(1_400);
  });

  it('stale connection after a simulated freeze: the first call after the thaw succeeds at once on a new connection', async () => {
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: env.mesh.contact.port } });
    proxies.push(proxy);
    const grant = await coldStart('grant', base, { EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: proxy.address });
    const queue = new SimulatedSqs();
    const [warm, afterThaw] = enqueue(queue, command({ entitlement: 'freeze-warm' }), command({ entitlement: 'freeze-thaw' }));
    const first = queue.receive(1);
    expect(await grant(sqsEvent(...first), context())).toEqual({ batchItemFailures: [] });
    queue.settle(first);

    expect(proxy.blackhole()).toBe(1); // the connection dies silently: no FIN, no RST
    freeze(5_500); // longer than the channel's 5 s idle limit, as between two invocations
    const second = queue.receive(1);
    const { value, ms } = await timed(grant(sqsEvent(...second), context()));

    expect(value).toEqual({ batchItemFailures: [] });
    expect(ms).toBeLessThan(1_500); // not the 10 s deadline on the dead connection
    expect(proxy.accepted).toBe(2);
    await expectGrantedOnce([warm!, afterThaw!]);
  });

  it('deadline nearly spent: the call is not sent (MESH_NO_TIME_LEFT) and the record is retried later', async () => {
    const grant = await coldStart('grant', base);
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 100 });
    const [event] = enqueue(queue, command({ entitlement: 'no-time-left' }));
    const before = env.mesh.contact.callCount;

    const records = queue.receive(10);
    // 520 ms left minus the 500 ms safety margin is less than the 50 ms a call needs.
    const response = await grant(sqsEvent(...records), context(520));
    queue.settle(records, response.batchItemFailures);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
    expect(loggedErrorCodes(logs.logs(), records[0]!.messageId)).toEqual(['MESH_NO_TIME_LEFT']);
    expect(env.mesh.contact.callCount).toBe(before);
    expect(attemptCodes()).toEqual([]);

    await drainQueue(queue, invoker(grant), { maxWaitMs: 10_000 });

    expect(queue.stats).toMatchObject({ received: 2, redelivered: 1, deleted: 1, movedToDlq: 0 });
    await expectGrantedOnce([event!]);
  });

  it('fleet outage: a container that opens the shared breaker opens it for a fresh container, which fails fast without a call', async () => {
    const fleet = { MESH_STATE_TABLE: MESH_STATE, CIRCUIT_BREAKER_SHARED_READ_SECONDS: '5' };
    const first = await coldStart('grant', base, fleet);
    const second = await coldStart('grant', base, fleet);
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 60_000 });
    enqueue(queue, ...familyCommands('fleet', 4));
    // Answering UNAVAILABLE rather than stopped, so that every call that reaches it is counted.
    env.mesh.contact.setFault({ kind: 'status', code: status.UNAVAILABLE });

    const opening = queue.receive(2);
    queue.settle(opening, (await first(sqsEvent(...opening), context())).batchItemFailures);
    const before = env.mesh.contact.callCount;
    expect(before).toBeGreaterThanOrEqual(5);
    const rest = queue.receive(2);
    const response = await second(sqsEvent(...rest), context());

    expect(response.batchItemFailures).toHaveLength(2);
    expect(env.mesh.contact.callCount).toBe(before);
    expect(rest.flatMap((r) => loggedErrorCodes(logs.logs(), r.messageId))).toEqual(['MESH_BREAKER_OPEN', 'MESH_BREAKER_OPEN']);
    const opened = await new MeshStateStore({ tableName: MESH_STATE, client: env.dynamo.client }).read('contact-service', true);
    expect(opened).toMatchObject({ state: 'open', version: 1 });
  });
});

auditTheWholeFile(logs, 200);
