import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshMetrics } from '../../../shared/observability/mesh-metrics.js';
import { captureOutput, valuesOf, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

let output: CapturedOutput;

beforeEach(() => {
  stubPowertoolsDefaults();
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', undefined);
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('MeshMetrics', () => {
  it('writes one EMF document per (service, method, code) with counts and every duration', () => {
    // Prepare
    const metrics = new MeshMetrics();
    metrics.recordCall('contact-service', 'GetUserInfo', 'OK', 12);
    metrics.recordCall('contact-service', 'GetUserInfo', 'OK', 30);
    metrics.recordCall('contact-service', 'GetUserInfo', 'UNAVAILABLE', 1500);

    // Act
    metrics.flush();

    // Assess
    const [ok, unavailable, ...rest] = output.emf();
    expect(rest).toEqual([]);
    expect(ok!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'PaymentFunctions',
        Dimensions: [['service', 'method', 'code']],
        Metrics: [
          { Name: 'grpc_client_requests_total', Unit: 'Count' },
          { Name: 'grpc_client_request_duration_seconds', Unit: 'Seconds' },
        ],
      },
    ]);
    expect(ok).toMatchObject({ service: 'contact-service', method: 'GetUserInfo', code: 'OK', grpc_client_requests_total: 2 });
    expect(valuesOf(ok!, 'grpc_client_request_duration_seconds')).toEqual([0.012, 0.03]);
    expect(unavailable!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toEqual([
      'grpc_client_requests_total',
      'grpc_client_requests_failed_total',
      'grpc_client_request_duration_seconds',
    ]);
    expect(unavailable).toMatchObject({ code: 'UNAVAILABLE', grpc_client_requests_total: 1, grpc_client_requests_failed_total: 1 });
    expect(valuesOf(unavailable!, 'grpc_client_request_duration_seconds')).toEqual([1.5]);
  });

  it('writes nothing when nothing was recorded, and nothing twice', () => {
    const metrics = new MeshMetrics();
    metrics.flush();
    metrics.recordCall('contact-service', 'GetUserInfo', 'OK', 1);
    metrics.flush();
    metrics.flush();

    expect(output.lines).toHaveLength(1);
  });

  it('takes the namespace from the option, then POWERTOOLS_METRICS_NAMESPACE', () => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'FromEnv');
    const fromEnv = new MeshMetrics();
    const fromOption = new MeshMetrics({ namespace: 'FromOption' });
    fromEnv.recordServiceUp('contact-service', true);
    fromOption.recordServiceUp('contact-service', false);

    fromEnv.flush();
    fromOption.flush();

    expect(output.emf().map((doc) => [doc._aws.CloudWatchMetrics[0]!.Namespace, doc.service_up])).toEqual([
      ['FromEnv', 1],
      ['FromOption', 0],
    ]);
  });

  it('records gauges in order, one document per dimension set', () => {
    const metrics = new MeshMetrics();
    metrics.recordBreakerState('contact-service', 'open');
    metrics.recordBreakerState('contact-service', 'half-open');
    metrics.recordBreakerState('contact-service', 'closed');
    metrics.recordSvidExpiry('spiffe://jia.app/payment-functions', 1800);

    metrics.flush();

    const [breaker, svid] = output.emf();
    expect(breaker!._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['service']], Metrics: [{ Name: 'circuit_breaker_state', Unit: 'None' }] });
    expect(valuesOf(breaker!, 'circuit_breaker_state')).toEqual([1, 2, 0]);
    expect(svid!._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['spiffe_id']], Metrics: [{ Name: 'svid_expiry_seconds', Unit: 'Seconds' }] });
    expect(svid).toMatchObject({ spiffe_id: 'spiffe://jia.app/payment-functions', svid_expiry_seconds: 1800 });
  });

  it('splits more than 99 durations over several documents, each with its dimensions', () => {
    const metrics = new MeshMetrics();
    for (let i = 0; i < 150; i++) metrics.recordCall('contact-service', 'GetFamilyMembers', 'OK', i);

    metrics.flush();

    const docs = output.emf();
    expect(docs).toHaveLength(2);
    expect(docs.map((doc) => doc._aws.CloudWatchMetrics[0]!.Dimensions)).toEqual([[['service', 'method', 'code']], [['service', 'method', 'code']]]);
    expect(docs.map((doc) => doc.method)).toEqual(['GetFamilyMembers', 'GetFamilyMembers']);
    expect(docs.map((doc) => valuesOf(doc, 'grpc_client_request_duration_seconds').length)).toEqual([99, 51]);
    expect(docs.map((doc) => valuesOf(doc, 'grpc_client_requests_total'))).toEqual([[150], []]);
  });

  it('counts a rejected call without a duration', () => {
    const metrics = new MeshMetrics();
    metrics.recordCall('contact-service', 'GetUserInfo', 'BREAKER_OPEN');

    metrics.flush();

    const [doc] = output.emf();
    expect(doc).toMatchObject({ code: 'BREAKER_OPEN', grpc_client_requests_total: 1, grpc_client_requests_failed_total: 1 });
    expect(doc!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).not.toContain('grpc_client_request_duration_seconds');
  });

  it('runs flush samplers first and keeps going when one throws', () => {
    const metrics = new MeshMetrics();
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    metrics.addFlushSampler(() => {
      throw new Error('sampler broke');
    });
    const stop = metrics.addFlushSampler((m) => m.recordServiceUp('contact-service', true));

    metrics.flush();
    stop();
    metrics.flush();

    expect(output.emf().map((doc) => doc.service_up)).toEqual([1]);
    expect(warning).toHaveBeenCalledWith(expect.objectContaining({ message: 'sampler broke' }), { code: 'MESH_METRICS_SAMPLER_FAILED' });
  });
});
