import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMeshStateTable } from '../../../../shared/resilience/shared-breaker/mesh-state-table.js';
import { MeshStateStore } from '../../../../shared/resilience/shared-breaker/mesh-state-store.js';
import { startDynalite, type LocalDynamo } from '../../../local/dynalite.js';
import { deferred } from '../support.js';
import { call, container, manualClock, storeOps, unavailable, type Container, type ManualClock } from './support.js';

let dynamo: LocalDynamo;
let tableName: string;
let tables = 0;
let clock: ManualClock;
let fleet: Container[];
let store: MeshStateStore;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `mesh-state-${++tables}`;
  await createMeshStateTable(dynamo.client, tableName);
  clock = manualClock();
  fleet = [];
  store = new MeshStateStore({ tableName, client: dynamo.client });
});
afterEach(() => {
  for (const c of fleet) c.client.destroy();
});

function containers(count: number, shared: Parameters<typeof container>[4] = {}): Container[] {
  const made = Array.from({ length: count }, (_, i) => container(`container-${i}`, dynamo.endpoint, tableName, clock, shared));
  fleet.push(...made);
  return made;
}

async function openThrough(c: Container): Promise<void> {
  for (let i = 0; i < 5; i += 1) await call(c, unavailable);
  expect(c.breaker.state).toBe('open');
}

describe('a circuit breaker shared by the fleet', () => {
  it('sends no store operation per call while healthy: one read per container per read interval', async () => {
    // Prepare
    const [c] = containers(1) as [Container];

    // Act
    for (let i = 0; i < 50; i += 1) await call(c);
    clock.advance(4_999);
    for (let i = 0; i < 50; i += 1) await call(c);
    const withinInterval = storeOps(c);
    clock.advance(1);
    await call(c);

    // Assess
    expect(withinInterval).toBe(1);
    expect(c.sends).toEqual({ GetItemCommand: 2 });
    expect(c.calls).toBe(101);
  });

  it('shares the cold-start read with the first calls instead of starting another', async () => {
    // Prepare
    const [c] = containers(1) as [Container];

    // Act
    const coldStartRead = c.breaker.sync();
    const results = await Promise.all([call(c), call(c), call(c)]);
    await coldStartRead;

    // Assess
    expect(coldStartRead).toBeInstanceOf(Promise);
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(c.sends).toEqual({ GetItemCommand: 1 });
  });

  it('opens for the whole fleet when one container opens it: the others fail fast without a call', async () => {
    // Prepare
    const [a, b, c] = containers(3) as [Container, Container, Container];
    await Promise.all([call(a), call(b), call(c)]);

    // Act
    await openThrough(a);
    clock.advance(5_000);
    const others = await Promise.all([call(b), call(b), call(c)]);

    // Assess
    expect(others).toEqual(['rejected:open', 'rejected:open', 'rejected:open']);
    expect([b.calls, c.calls]).toEqual([1, 1]); // the healthy call before the outage only
    expect(b.transitions).toEqual(['closed→open']);
    expect(await store.read('contact-service', true)).toMatchObject({ state: 'open', version: 1, openedBy: 'container-0' });
    expect(a.sends.UpdateItemCommand).toBe(1);
  });

  it('lets a container that lost the race to open follow the winner instead of writing twice', async () => {
    // Prepare
    const [a, b] = containers(2) as [Container, Container];

    // Act: both see the outage at once, before either has read the other's opening.
    await Promise.all([openThrough(a), openThrough(b)]);

    // Assess
    const record = await store.read('contact-service', true);
    expect(record).toMatchObject({ state: 'open', version: 1 });
    expect([a.breaker.state, b.breaker.state]).toEqual(['open', 'open']);
  });

  it('elects exactly one prober among containers racing when the probe is due', async () => {
    // Prepare
    const racers = containers(6);
    const [opener] = racers as [Container];
    await openThrough(opener);
    clock.advance(5_000);
    await Promise.all(racers.map((c) => call(c)));
    clock.advance(60_000);
    const answer = deferred<string>();

    // Act: every container's next call arrives when the probe is due.
    const outcomes = racers.map((c) => call(c, () => answer.promise));
    await new Promise((resolve) => setTimeout(resolve, 200));
    answer.resolve('SERVING');
    const results = await Promise.all(outcomes);

    // Assess
    const probers = racers.filter((c) => c.calls > 0);
    expect(probers).toHaveLength(1);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'rejected:open')).toHaveLength(5);
    const record = await store.read('contact-service', true);
    expect(record.leaseOwner).toBe(probers[0]?.name);
    expect(record.leaseUntil).toBe(clock.now() + 30_000);
  });

  it('closes for the fleet after the elected prober\'s successes, and every container follows on its next read', async () => {
    // Prepare
    const [a, b] = containers(2) as [Container, Container];
    await openThrough(a);
    clock.advance(60_000);

    // Act
    const probes = [await call(a), await call(a)];
    clock.advance(5_000);
    const follower = await call(b);

    // Assess
    expect(probes).toEqual(['ok', 'ok']);
    expect(a.transitions).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    expect(await store.read('contact-service', true)).toMatchObject({ state: 'closed', version: 2, closedAt: clock.now() - 5_000 });
    expect(follower).toBe('ok');
    expect(b.breaker.state).toBe('closed');
  });

  it('reopens for the fleet when the prober fails, and the next probe is due a full open time later', async () => {
    // Prepare
    const [a, b] = containers(2) as [Container, Container];
    await openThrough(a);
    clock.advance(60_000);

    // Act
    const probe = await call(a, unavailable);
    const reopenedAt = clock.now();
    clock.advance(59_999);
    const tooEarly = await call(b);
    clock.advance(1);
    const due = await call(b);

    // Assess
    expect(probe).toBe('failed');
    expect(tooEarly).toBe('rejected:open');
    expect(due).toBe('ok');
    expect(b.calls).toBe(1);
    expect(b.breaker.state).toBe('half-open');
    expect((await store.read('contact-service', true)).leaseOwner).toBe('container-1');
    expect(reopenedAt).toBeLessThan(clock.now());
  });

  it('cannot be wedged by a prober that crashed: another container is elected once the lease expires', async () => {
    // Prepare: a container won the probe and died before answering.
    const [a, b] = containers(2) as [Container, Container];
    await openThrough(a);
    clock.advance(60_000);
    const opened = await store.read('contact-service', true);
    const crashed = await store.acquireProbe('contact-service', {
      version: opened.version,
      owner: 'crashed-container',
      now: clock.now(),
      dueBefore: clock.now() - 60_000,
      leaseMs: 30_000,
    });
    expect(crashed.won).toBe(true);

    // Act
    const whileLeased = await call(b);
    const writesWhileLeased = b.sends.UpdateItemCommand ?? 0;
    clock.advance(10_000);
    const stillLeased = await call(b);
    clock.advance(20_000);
    const afterExpiry = [await call(b), await call(b)];
    const lateClose = await store.close('contact-service', { version: opened.version, owner: 'crashed-container', now: clock.now() });

    // Assess
    expect(whileLeased).toBe('rejected:open');
    expect(stillLeased).toBe('rejected:open');
    expect(writesWhileLeased).toBe(0); // its read showed the lease: no election write could win
    expect(b.sends.UpdateItemCommand).toBe(2); // one election once the lease expired, one close
    expect(afterExpiry).toEqual(['ok', 'ok']);
    expect(b.breaker.state).toBe('closed');
    expect(lateClose.won).toBe(false);
    expect(lateClose.record).toMatchObject({ state: 'closed', version: opened.version + 1 });
  });

  it('ramps traffic up over the slow start from the moment the fleet closed', async () => {
    // Prepare
    const [a, b] = containers(2) as [Container, Container];
    await openThrough(a);
    clock.advance(60_000);
    await call(a);
    await call(a);
    const closedAt = clock.now();

    // Act
    const admittedOf100 = async () => {
      const results = await Promise.all(Array.from({ length: 100 }, () => call(b)));
      return results.filter((r) => r === 'ok').length;
    };
    clock.t = closedAt + 3_000;
    const at10Percent = await admittedOf100();
    clock.t = closedAt + 15_000;
    const at50Percent = await admittedOf100();
    clock.t = closedAt + 30_000;
    const atTheEnd = await admittedOf100();

    // Assess
    expect(at10Percent).toBeGreaterThanOrEqual(10);
    expect(at10Percent).toBeLessThanOrEqual(11);
    expect(at50Percent).toBeGreaterThanOrEqual(50);
    expect(at50Percent).toBeLessThanOrEqual(51);
    expect(atTheEnd).toBe(100);
  });

  it('admits every call at once after closing when the slow start is 0', async () => {
    // Prepare
    const [a] = containers(1, { slowStartMs: 0 }) as [Container];
    await openThrough(a);
    clock.advance(60_000);
    await call(a);
    await call(a);

    // Act
    const results = await Promise.all(Array.from({ length: 20 }, () => call(a)));

    // Assess
    expect(results.every((r) => r === 'ok')).toBe(true);
  });
});

describe('a shared breaker whose store fails', () => {
  it('keeps calling through a closed breaker and reports each failed read, once per read interval', async () => {
    // Prepare: nothing listens on the discard port.
    const c = container('lonely', 'http://127.0.0.1:9', tableName, clock);
    fleet.push(c);

    // Act
    const results = await Promise.all(Array.from({ length: 10 }, () => call(c)));
    clock.advance(5_000);
    await call(c);

    // Assess
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(c.storeErrors.map((e) => e.operation)).toEqual(['read', 'read']);
    expect(c.storeErrors[0]?.error).toMatchObject({ code: 'BREAKER_STORE_FAILED', service: 'contact-service' });
  });

  it('opens and probes on its own evidence, like a per-container breaker', async () => {
    // Prepare
    const c = container('lonely', 'http://127.0.0.1:9', tableName, clock);
    fleet.push(c);

    // Act
    await openThrough(c);
    const whileOpen = await call(c);
    clock.advance(60_000);
    const probes = [await call(c), await call(c)];

    // Assess
    expect(whileOpen).toBe('rejected:open');
    expect(probes).toEqual(['ok', 'ok']);
    expect(c.transitions).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    expect(c.storeErrors.map((e) => e.operation)).toEqual(['read', 'open', 'read']);
  });

  it('tells the fleet about an opening made while the store was unreachable once the store answers', async () => {
    // Prepare: the table does not exist yet, so every operation fails.
    const missing = `mesh-state-later-${tables}`;
    const [a] = [container('early', dynamo.endpoint, missing, clock)] as [Container];
    const [b] = [container('bystander', dynamo.endpoint, missing, clock)] as [Container];
    fleet.push(a, b);
    await openThrough(a);
    expect(a.storeErrors.map((e) => e.operation)).toEqual(['read', 'open']);

    // Act
    await createMeshStateTable(dynamo.client, missing);
    clock.advance(5_000);
    await call(a);
    const bystander = await call(b);

    // Assess
    expect(await new MeshStateStore({ tableName: missing, client: dynamo.client }).read('contact-service', true)).toMatchObject({
      state: 'open',
      openedBy: 'early',
    });
    expect(bystander).toBe('rejected:open');
  });
});
