import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyConsumption,
  consumptionAction,
  mappingIdFromEnv,
  type ServiceVerdict,
} from '../../../../functions/mesh-health/queue-consumption.js';

const MAPPING = '6f0b5a4e-2c1d-4b7a-9e3f-0a1b2c3d4e5f';
const lambdaMock = mockClient(LambdaClient);
afterEach(() => lambdaMock.reset());

const contact = (fleetBreaker: ServiceVerdict['fleetBreaker'], up: boolean): ServiceVerdict => ({ service: 'contact-service', fleetBreaker, up });

describe('consumptionAction', () => {
  it.each([
    ['open', false, 'pause'],
    ['open', true, 'pause'],
    ['half-open', true, 'pause'],
    ['closed', true, 'resume'],
    [undefined, true, 'resume'],
    ['closed', false, 'keep'],
    [undefined, false, 'keep'],
  ] as const)('with the fleet breaker %s and the service up=%s: %s', (fleetBreaker, up, action) => {
    expect(consumptionAction([contact(fleetBreaker, up)])).toBe(action);
  });
});

/** A mapping in `state`, as GetEventSourceMapping reports it (the documented response shape). */
function mappingIn(state: string) {
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: MAPPING }).resolves({
    UUID: MAPPING,
    State: state,
    BatchSize: 10,
    EventSourceArn: 'arn:aws:sqs:eu-central-1:123456789012:PaymentFunctions-EntitlementQueue',
    FunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:PaymentFunctions-GrantEntitlements',
    ScalingConfig: { MaximumConcurrency: 20 },
  });
  lambdaMock.on(UpdateEventSourceMappingCommand).resolves({ UUID: MAPPING, State: 'Updating' });
}

const lambda = () => new LambdaClient({ region: 'eu-central-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

describe('applyConsumption', () => {
  it('disables a running mapping to pause', async () => {
    mappingIn('Enabled');
    const report = await applyConsumption('pause', { mappingId: MAPPING, lambda: lambda() });
    expect(report).toEqual({ mappingId: MAPPING, action: 'pause', stateBefore: 'Enabled', changed: true, paused: true });
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: MAPPING, Enabled: false }]);
  });

  it('enables a disabled mapping to resume', async () => {
    mappingIn('Disabled');
    const report = await applyConsumption('resume', { mappingId: MAPPING, lambda: lambda() });
    expect(report).toMatchObject({ changed: true, paused: false });
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: MAPPING, Enabled: true }]);
  });

  it.each([
    ['pause', 'Disabled', true],
    ['pause', 'Disabling', true],
    ['resume', 'Enabled', false],
    ['resume', 'Enabling', false],
    ['keep', 'Disabled', true],
    ['keep', 'Enabled', false],
  ] as const)('leaves a mapping alone when asked to %s it while %s', async (action, state, paused) => {
    mappingIn(state);
    const report = await applyConsumption(action, { mappingId: MAPPING, lambda: lambda() });
    expect(report).toMatchObject({ changed: false, paused, stateBefore: state });
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
  });

  it('reports a Lambda error instead of throwing, so the next run tries again', async () => {
    lambdaMock.on(GetEventSourceMappingCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const report = await applyConsumption('resume', { mappingId: MAPPING, lambda: lambda() });
    expect(report).toMatchObject({ changed: false, error: { name: 'TooManyRequestsException', message: 'Rate exceeded' } });
  });
});

describe('mappingIdFromEnv', () => {
  it('reads GRANT_EVENT_SOURCE_MAPPING_ID, unset meaning mesh-health only reports', () => {
    expect(mappingIdFromEnv({ GRANT_EVENT_SOURCE_MAPPING_ID: ` ${MAPPING} ` })).toBe(MAPPING);
    expect(mappingIdFromEnv({})).toBeUndefined();
  });

  it('rejects what is not a mapping UUID, naming the key and the value', () => {
    expect(() => mappingIdFromEnv({ GRANT_EVENT_SOURCE_MAPPING_ID: 'grant' })).toThrow(
      'GRANT_EVENT_SOURCE_MAPPING_ID must be an event source mapping UUID, got "grant"',
    );
  });
});
