import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeshHealthReport } from '../../../functions/mesh-health/check-mesh-health.js';
import { captureOutput, valuesOf } from '../../fixtures/capture-output.js';
import { startFunctionEnvironment, type FunctionEnvironment } from '../../fixtures/function-environment.js';
import { lambdaContext } from '../../fixtures/mesh-environment.js';

let env: FunctionEnvironment;
let handler: (event: unknown, context: Context) => Promise<MeshHealthReport>;

beforeAll(async () => {
  env = await startFunctionEnvironment({
    // A second mesh service nobody listens for: discovered statically, refused on connect.
    EXTERNAL_SERVICES_LEDGER_NAME: 'ledger',
    EXTERNAL_SERVICES_LEDGER_ADDRESS: '127.0.0.1:9',
    EXTERNAL_SERVICES_LEDGER_SPIFFE_ID: 'spiffe://jia.app/ledger',
  });
  ({ handler } = (await import('../../../functions/mesh-health/handler.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  await env.close();
});

const scheduled = { version: '0', id: 'evt-schedule-1', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

describe('mesh-health', () => {
  it('reports each configured service, a down one included, and emits service_up', async () => {
    const output = captureOutput();
    let report: MeshHealthReport;
    try {
      report = await handler(scheduled, lambdaContext() as unknown as Context);
    } finally {
      output.restore();
    }

    const byName = Object.fromEntries(report.services.map((s) => [s.service, s]));
    expect(report.spiffeId).toBe('spiffe://jia.app/payment-functions');
    expect(report.svidExpiresInSeconds).toBeGreaterThan(3000);
    expect(byName['contact-service']).toMatchObject({ up: true, status: 'SERVING', discovery: { source: 'static', addresses: 1 } });
    expect(byName['ledger']).toMatchObject({ up: false, status: undefined, error: { code: 'MESH_UNAVAILABLE' } });
    const up = Object.fromEntries(
      output.emf().filter((d) => 'service_up' in d).map((d) => [d['service'] as string, valuesOf(d, 'service_up')]),
    );
    expect(up).toEqual({ 'contact-service': [1], ledger: [0] });
    expect(output.emf().some((d) => 'svid_expiry_seconds' in d)).toBe(true);
  });

  it('reports the contact-service down while it is stopped', async () => {
    await env.mesh.contact.stop();
    const output = captureOutput();
    let report: MeshHealthReport;
    try {
      report = await handler(scheduled, lambdaContext() as unknown as Context);
    } finally {
      output.restore();
      await env.mesh.contact.start();
    }

    expect(report.services.find((s) => s.service === 'contact-service')).toMatchObject({ up: false, error: { code: 'MESH_UNAVAILABLE' } });
  });
});
