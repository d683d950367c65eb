import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshCallError } from '../../../shared/errors.js';
import { instrumentPolicy, MESH_CALL_MESSAGE, recordPolicyRejection } from '../../../shared/observability/instrument-policy.js';
import { createMeshTelemetry, type MeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { ServicePolicy, SharedCircuitBreaker, type CallContext } from '../../../shared/resilience/index.js';
import { grpcError } from '../resilience/support.js';
import { captureOutput, valuesOf, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

const CONTACT_ID = 'spiffe://jia.app/contact-service';
const call: CallContext = { method: 'GetUserInfo', idempotent: true };

let output: CapturedOutput;
let telemetry: MeshTelemetry;
let now: number;
const clock = { now: () => now };

/** A policy on a hand-driven clock: every attempt takes exactly `ms`. */
function timed<T>(ms: number, result: () => T): () => Promise<T> {
  return async () => {
    now += ms;
    return result();
  };
}

beforeEach(() => {
  stubPowertoolsDefaults();
  now = 1_000_000;
  output = captureOutput();
  telemetry = createMeshTelemetry();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('instrumentPolicy', () => {
  it('counts 2 OK and 1 UNAVAILABLE attempts into EMF split by code, with every duration', async () => {
    // Prepare
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 0 } }, clock);
    instrumentPolicy(policy, telemetry);

    // Act
    await policy.execute(call, timed(20, () => 'a'));
    await policy.execute(call, timed(40, () => 'b'));
    await policy.execute(call, timed(250, () => Promise.reject(grpcError(status.UNAVAILABLE)))).catch(() => {});
    telemetry.metrics.flush();

    // Assess
    const docs = output.emf();
    expect(docs.map((doc) => [doc.code, doc.grpc_client_requests_total])).toEqual([
      ['OK', 2],
      ['UNAVAILABLE', 1],
    ]);
    for (const doc of docs) {
      expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'PaymentFunctions', Dimensions: [['service', 'method', 'code']] });
      expect(doc).toMatchObject({ service: 'contact-service', method: 'GetUserInfo' });
    }
    const [ok, unavailable] = docs;
    expect(valuesOf(ok!, 'grpc_client_requests_failed_total')).toEqual([]);
    expect(valuesOf(unavailable!, 'grpc_client_requests_failed_total')).toEqual([1]);
    expect(valuesOf(ok!, 'grpc_client_request_duration_seconds')).toEqual([0.02, 0.04]);
    expect(valuesOf(unavailable!, 'grpc_client_request_duration_seconds')).toEqual([0.25]);
    expect(unavailable!._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'grpc_client_requests_total', Unit: 'Count' },
      { Name: 'grpc_client_requests_failed_total', Unit: 'Count' },
      { Name: 'grpc_client_request_duration_seconds', Unit: 'Seconds' },
    ]);
  });

  it('writes one log line per attempt with service, method, peer, code, duration, attempt and breaker state', async () => {
    telemetry = createMeshTelemetry({ logger: { logLevel: 'DEBUG' } });
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } }, clock);
    instrumentPolicy(policy, { ...telemetry, peer: () => CONTACT_ID });
    let attempts = 0;

    await policy.execute(call, timed(15, () => (++attempts === 1 ? Promise.reject(grpcError(status.UNAVAILABLE, 'connection refused')) : 'ok')));

    const lines = output.logs().filter((line) => line.message === MESH_CALL_MESSAGE);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'WARN',
      service: 'payment-functions',
      meshService: 'contact-service',
      method: 'GetUserInfo',
      peer: CONTACT_ID,
      code: 'UNAVAILABLE',
      durationMs: 15,
      attempt: 1,
      breakerState: 'closed',
      error: { name: 'Error', code: 'UNAVAILABLE', message: '14 UNAVAILABLE: connection refused' },
    });
    expect(lines[1]).toMatchObject({ level: 'DEBUG', code: 'OK', attempt: 2, peer: CONTACT_ID, breakerState: 'closed' });
    expect(lines[1]).not.toHaveProperty('error');
  });

  it('logs a successful attempt at DEBUG only: at the default INFO level a failed then successful call writes one line', async () => {
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } }, clock);
    instrumentPolicy(policy, telemetry);
    let attempts = 0;

    await policy.execute(call, timed(15, () => (++attempts === 1 ? Promise.reject(grpcError(status.UNAVAILABLE)) : 'ok')));
    telemetry.metrics.flush();

    expect(output.logs().filter((line) => line.message === MESH_CALL_MESSAGE).map((line) => [line.level, line.code])).toEqual([['WARN', 'UNAVAILABLE']]);
    // The success is still counted.
    expect(output.emf().map((doc) => [doc.code, doc.grpc_client_requests_total])).toEqual([
      ['UNAVAILABLE', 1],
      ['OK', 1],
    ]);
  });

  it('logs an application error (the service answered) at INFO', async () => {
    const policy = new ServicePolicy({ service: 'contact-service' }, clock);
    instrumentPolicy(policy, telemetry);

    await policy.execute(call, timed(5, () => Promise.reject(grpcError(status.NOT_FOUND, 'user u-404')))).catch(() => {});

    expect(output.logs()).toEqual([
      expect.objectContaining({ level: 'INFO', code: 'NOT_FOUND', error: { name: 'Error', code: 'NOT_FOUND', message: '5 NOT_FOUND: user u-404' } }),
    ]);
  });

  it('prefers the peer an event carries over the configured one', async () => {
    const policy = new ServicePolicy({ service: 'contact-service' }, clock);
    // Stands in for a transport that adds the verified peer; listeners run in subscription order.
    policy.onAttempt((event) => Object.assign(event, { peer: CONTACT_ID }));
    instrumentPolicy(policy, { ...telemetry, peer: () => 'spiffe://jia.app/configured' });

    await policy.execute(call, timed(5, () => Promise.reject(grpcError(status.NOT_FOUND)))).catch(() => {});

    expect(output.logs().map((line) => line.peer)).toEqual([CONTACT_ID]);
  });

  it('records breaker transitions as circuit_breaker_state 1, 2, 0 and logs each at WARN', async () => {
    // Prepare
    const policy = new ServicePolicy(
      { service: 'contact-service', retry: { maxAttempts: 0 }, circuitBreaker: { failureThreshold: 1, successThreshold: 1, timeoutSeconds: 5 } },
      clock,
    );
    instrumentPolicy(policy, telemetry);

    // Act
    await policy.execute(call, timed(1, () => Promise.reject(grpcError(status.UNAVAILABLE)))).catch(() => {});
    now += 5_000;
    await policy.execute(call, timed(1, () => 'probe ok'));
    telemetry.metrics.flush();

    // Assess
    const breaker = output.emf().find((doc) => 'circuit_breaker_state' in doc)!;
    expect(breaker._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['service']], Metrics: [{ Name: 'circuit_breaker_state', Unit: 'None' }] });
    expect(breaker.service).toBe('contact-service');
    expect(valuesOf(breaker, 'circuit_breaker_state')).toEqual([1, 2, 0]);
    const transitions = output.logs().filter((line) => line.message === 'circuit breaker state changed');
    expect(transitions.map((line) => [line.level, line.meshService, line.from, line.to])).toEqual([
      ['WARN', 'contact-service', 'closed', 'open'],
      ['WARN', 'contact-service', 'open', 'half-open'],
      ['WARN', 'contact-service', 'half-open', 'closed'],
    ]);
  });

  it('stops recording once unsubscribed', async () => {
    const policy = new ServicePolicy({ service: 'contact-service' }, clock);
    const stop = instrumentPolicy(policy, telemetry);

    stop();
    await policy.execute(call, timed(1, () => 'ok'));
    telemetry.metrics.flush();

    expect(output.lines).toEqual([]);
  });
});

describe('recordPolicyRejection', () => {
  it('counts and logs a call the open breaker refused, without a duration', async () => {
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 0 }, circuitBreaker: { failureThreshold: 1 } }, clock);
    await policy.execute(call, timed(1, () => Promise.reject(grpcError(status.UNAVAILABLE)))).catch(() => {});
    const rejection = await policy.execute(call, timed(1, () => 'never sent')).catch((e: unknown) => e);

    const recorded = recordPolicyRejection(telemetry, rejection);
    telemetry.metrics.flush();

    expect(recorded).toBe(true);
    const [doc] = output.emf();
    expect(doc).toMatchObject({ code: 'BREAKER_OPEN', grpc_client_requests_total: 1, grpc_client_requests_failed_total: 1 });
    expect(valuesOf(doc!, 'grpc_client_request_duration_seconds')).toEqual([]);
    expect(output.logs()).toEqual([expect.objectContaining({ level: 'WARN', message: MESH_CALL_MESSAGE, code: 'BREAKER_OPEN', attempt: 0 })]);
  });

  it('leaves an attempt error alone: the attempt was already counted', () => {
    const notFound = new MeshCallError('MESH_NOT_FOUND', 'no user', { service: 'contact-service', method: 'GetUserInfo', grpcCode: status.NOT_FOUND });

    expect(recordPolicyRejection(telemetry, notFound)).toBe(false);
    expect(recordPolicyRejection(telemetry, grpcError(status.UNAVAILABLE))).toBe(false);
    telemetry.metrics.flush();
    expect(output.lines).toEqual([]);
  });
});

describe('instrumentPolicy with a breaker shared by the fleet', () => {
  it('logs every failed read or write of the mesh-state table at WARN and counts breaker_store_errors_total: never silent', async () => {
    // Prepare: a store that cannot be reached, as an unreachable table answers.
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { name: 'BREAKER_STORE_FAILED', code: 'BREAKER_STORE_FAILED' });
    const fail = () => Promise.reject(unreachable);
    const store = { read: fail, open: fail, acquireProbe: fail, close: fail, reopen: fail };
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 0 } }, clock, (options, breakerClock) =>
      new SharedCircuitBreaker(options, { store, owner: 'container-a', readIntervalMs: 5_000, slowStartMs: 0, leaseMs: 30_000 }, breakerClock),
    );
    instrumentPolicy(policy, telemetry);

    // Act: the call still goes through on the local breaker.
    const result = await policy.execute(call, timed(5, () => 'answered'));
    telemetry.metrics.flush();

    // Assess
    expect(result).toBe('answered');
    const warning = output.logs().find((l) => l['message'] === 'breaker store unreachable: the circuit breaker runs on this container\'s evidence alone');
    expect(warning).toMatchObject({ level: 'WARN', meshService: 'contact-service', operation: 'read', error: { code: 'BREAKER_STORE_FAILED' } });
    const counted = output.emf().filter((d) => 'breaker_store_errors_total' in d);
    expect(counted.map((d) => [d['service'], valuesOf(d, 'breaker_store_errors_total')])).toEqual([['contact-service', [1]]]);
  });
});
