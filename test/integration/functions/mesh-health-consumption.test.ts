// mesh-health as the fleet's last prober: the real handler, the reference contact-service over
// mTLS, the mesh-state table on dynalite, and Lambda's event source mapping API mocked (it has no
// local implementation).
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MeshHealthReport } from '../../../functions/mesh-health/check-mesh-health.js';
import { createMeshStateTable } from '../../../shared/resilience/shared-breaker/mesh-state-table.js';
import { MeshStateStore } from '../../../shared/resilience/shared-breaker/mesh-state-store.js';
import { captureOutput, valuesOf } from '../../fixtures/capture-output.js';
import { startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';

const MAPPING = '6f0b5a4e-2c1d-4b7a-9e3f-0a1b2c3d4e5f';
const TABLE = 'mesh-state';
const lambdaMock = mockClient(LambdaClient);
let mappingState = 'Enabled';

let env: FunctionEnvironment;
let store: MeshStateStore;
let handler: (event: unknown, context: Context) => Promise<MeshHealthReport>;

beforeAll(async () => {
  env = await startFunctionEnvironment({ MESH_STATE_TABLE: TABLE, GRANT_EVENT_SOURCE_MAPPING_ID: MAPPING });
  await createMeshStateTable(env.dynamo.client, TABLE);
  store = new MeshStateStore({ tableName: TABLE, client: env.dynamo.client });
  ({ handler } = (await import('../../../functions/mesh-health/handler.js')) as unknown as { handler: typeof handler });
});
beforeEach(() => {
  lambdaMock.on(GetEventSourceMappingCommand).callsFake(() => ({ UUID: MAPPING, State: mappingState }));
  lambdaMock.on(UpdateEventSourceMappingCommand).callsFake((input: { Enabled: boolean }) => {
    mappingState = input.Enabled ? 'Enabled' : 'Disabled';
    return { UUID: MAPPING, State: input.Enabled ? 'Enabling' : 'Disabling' };
  });
});
afterEach(() => {
  lambdaMock.reset();
  vi.useRealTimers();
});
afterAll(async () => {
  await env.close();
});

const scheduled = { version: '0', id: 'evt-schedule-1', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

async function run() {
  const output = captureOutput();
  try {
    const report = await handler(scheduled, lambdaContext() as unknown as Context);
    return { report, output };
  } finally {
    output.restore();
  }
}

const updates = () => lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input.Enabled);

describe('mesh-health controlling grant-entitlements\' queue consumption', () => {
  it('pauses consumption while the fleet\'s breaker is open, and reports the fleet\'s state', async () => {
    // Prepare: a grant-entitlements container opened the breaker a moment ago.
    await store.open('contact-service', { now: Date.now(), by: 'grant-entitlements-container' });

    // Act
    const { report, output } = await run();

    // Assess
    expect(updates()).toEqual([false]);
    expect(report.consumption).toMatchObject({ action: 'pause', stateBefore: 'Enabled', changed: true, paused: true });
    expect(report.services[0]).toMatchObject({ service: 'contact-service', fleetBreaker: 'open', up: false, error: { code: 'MESH_BREAKER_OPEN' } });
    const gauge = (name: string) => output.emf().filter((d) => name in d).flatMap((d) => valuesOf(d, name));
    expect(gauge('queue_consumption_paused')).toEqual([1]);
    expect(gauge('circuit_breaker_state')).toContain(1);
    expect(output.logs().some((l) => l['message'] === 'queue consumption paused: the fleet\'s breaker is open')).toBe(true);
  });

  it('keeps it paused on the next run without touching the mapping again', async () => {
    const { report } = await run();

    expect(updates()).toEqual([]);
    expect(report.consumption).toMatchObject({ action: 'pause', stateBefore: 'Disabled', changed: false, paused: true });
  });

  it('probes when the fleet\'s probe is due, closes the breaker for the fleet, and resumes consumption', async () => {
    // Prepare: a minute later, the contact-service answers again.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);

    // Act
    const { report, output } = await run();

    // Assess
    expect(report.services[0]).toMatchObject({ up: true, status: 'SERVING', breaker: 'closed', fleetBreaker: 'closed' });
    expect(await store.read('contact-service', true)).toMatchObject({ state: 'closed', version: 2 });
    expect(updates()).toEqual([true]);
    expect(report.consumption).toMatchObject({ action: 'resume', changed: true, paused: false });
    expect(output.emf().filter((d) => 'queue_consumption_paused' in d).flatMap((d) => valuesOf(d, 'queue_consumption_paused'))).toEqual([0]);
  });

  it('resumes a mapping a crashed run left disabled once the breaker is closed and the service up', async () => {
    // Prepare: a run disabled the mapping and died before anything else.
    mappingState = 'Disabled';

    // Act
    const { report } = await run();

    // Assess
    expect(updates()).toEqual([true]);
    expect(report.consumption).toMatchObject({ action: 'resume', stateBefore: 'Disabled', changed: true });
  });
});
