// The alarms and the on-call dashboard, from one synthesis. This file takes the "new topic mailing
// on-call" path; the stack test covers alarmTopicArn.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { fnOf, functionsByService, synthApp, type FunctionResource } from './synth-fixture.js';

const EMAIL = 'payments-oncall@example.com';

interface AlarmResource {
  AlarmName: string;
  ComparisonOperator: string;
  Threshold: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData?: string;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: { Expression?: string; Period?: number }[];
  AlarmActions?: unknown[];
  OKActions?: unknown[];
}

interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    alarms?: string[];
    metrics?: unknown[][];
    annotations?: { horizontal?: { value: number }[] };
  };
}

let template: Template;
let functions: Record<string, FunctionResource>;
let alarms: Record<string, AlarmResource>;
let widgets: Widget[];
let dashboardName: unknown;

beforeAll(() => {
  const synth = synthApp({
    alarmTopicArn: undefined,
    alarmEmail: EMAIL,
    svidExpiryAlarmSeconds: 43_200,
    dashboardName: 'payments-on-call',
    // Not the defaults (1 and 60): the alarms must follow the knobs.
    meshHealthScheduleMinutes: 5,
    queuePausedAlarmMinutes: 30,
  });
  template = synth.functionsTemplate;
  functions = functionsByService(template);
  alarms = Object.fromEntries(
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => {
      const alarm = r.Properties as AlarmResource;
      return [alarm.AlarmName.replace(/^PaymentFunctions-/, ''), alarm];
    }),
  );
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  dashboardName = dashboard?.Properties.DashboardName;
  // The body is a Fn::Join; CloudFormation's values (ARNs, names) stand in as «ref».
  const [, parts] = dashboard?.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
  widgets = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '«ref»')).join('')).widgets;
});

function alarm(name: string): AlarmResource {
  const found = alarms[name];
  if (found === undefined) throw new Error(`no alarm ${name}; there are ${Object.keys(alarms).join(', ')}`);
  return found;
}

describe('alarms', () => {
  it('are exactly the seven kinds, one errors alarm per function', () => {
    expect(Object.keys(alarms).sort()).toEqual([
      'breaker-store-errors',
      'dead-letter-queue-not-empty',
      'get-user-info-errors',
      'grant-entitlements-errors',
      'mesh-circuit-breaker-open',
      'mesh-health-errors',
      'mesh-service-down',
      'payment-webhook-errors',
      'queue-consumption-paused',
      'svid-expiring',
    ]);
  });

  it('fire when queue consumption stays paused for queuePausedAlarmMinutes, counted in mesh-health runs', () => {
    expect(alarm('queue-consumption-paused')).toMatchObject({
      Metrics: [{ Expression: 'SELECT MAX(queue_consumption_paused) FROM SCHEMA("PaymentFunctions", consumer)', Period: 300 }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire on any failed read or write of the mesh-state table: a breaker fallen back to local state is never silent', () => {
    expect(alarm('breaker-store-errors')).toMatchObject({
      Metrics: [{ Expression: 'SELECT SUM(breaker_store_errors_total) FROM SCHEMA("PaymentFunctions", service)', Period: 300 }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });

  it('fire as soon as one record reaches the dead-letter queue', () => {
    const dlq = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.absent() } }))[0];
    expect(alarm('dead-letter-queue-not-empty')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });

  it('fire when any mesh service\'s breaker state reaches 1 (open) or more (half-open)', () => {
    expect(alarm('mesh-circuit-breaker-open')).toMatchObject({
      Metrics: [{ Expression: 'SELECT MAX(circuit_breaker_state) FROM SCHEMA("PaymentFunctions", service)' }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('fire when the SVID has less than the configured seconds left, or nobody reports it', () => {
    expect(alarm('svid-expiring')).toMatchObject({
      Metrics: [{ Expression: 'SELECT MIN(svid_expiry_seconds) FROM SCHEMA("PaymentFunctions", spiffe_id)', Period: 300 }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 43_200,
      TreatMissingData: 'breaching',
    });
  });

  it('fire when any mesh service is down for two health checks in a row', () => {
    expect(alarm('mesh-service-down')).toMatchObject({
      Metrics: [{ Expression: 'SELECT MIN(service_up) FROM SCHEMA("PaymentFunctions", service)', Period: 300 }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
  });

  it.each(['payment-webhook', 'grant-entitlements', 'get-user-info', 'mesh-health'])('fire on any error of %s', (service) => {
    expect(alarm(`${service}-errors`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnOf(functions, service).logicalId } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });
});

describe('the alarm topic', () => {
  it('is created, HTTPS-only, and mails alarmEmail', () => {
    const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: EMAIL, TopicArn: { Ref: topic } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('is notified by every alarm, when it fires and when it recovers', () => {
    const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
    for (const one of Object.values(alarms)) {
      expect(one.AlarmActions).toEqual([{ Ref: topic }]);
      expect(one.OKActions).toEqual([{ Ref: topic }]);
    }
  });
});

function widget(title: string): Widget {
  const found = widgets.find((w) => w.properties.title === title);
  if (found === undefined) throw new Error(`no widget "${title}"; there are ${widgets.map((w) => w.properties.title).join(' | ')}`);
  return found;
}

/** Every metric of a widget as text: namespace, name and dimensions, or its expression. */
function metricsOf(title: string): string {
  return JSON.stringify(widget(title).properties.metrics);
}

describe('the on-call dashboard', () => {
  it('has the configured name', () => {
    expect(dashboardName).toBe('payments-on-call');
  });

  it('opens on the state of every alarm', () => {
    const first = widgets.find((w) => w.type === 'alarm');
    expect(widgets.indexOf(first as Widget)).toBe(1);
    expect(first?.properties.alarms).toHaveLength(10);
  });

  it('shows webhook requests per route and the API\'s 4xx and 5xx', () => {
    expect(metricsOf('Webhook: requests per route')).toContain('{AWS/ApiGateway,ApiId,Stage,Route}');
    expect(metricsOf('API 4xx / 5xx')).toMatch(/"AWS\/ApiGateway","4xx".*"AWS\/ApiGateway","5xx"/);
  });

  it('shows queue depth and the age of the oldest message', () => {
    const metrics = metricsOf('Entitlement queue: depth and oldest age');
    expect(metrics).toContain('ApproximateNumberOfMessagesVisible');
    expect(metrics).toContain('ApproximateAgeOfOldestMessage');
  });

  it('shows the dead-letter queue depth', () => {
    expect(metricsOf('Dead-letter queue depth')).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('shows mesh calls and failures by service, method and code', () => {
    expect(metricsOf('Mesh calls by service, method, code')).toContain(
      `SEARCH('{PaymentFunctions,service,method,code} MetricName=\\"grpc_client_requests_total\\"', 'Sum', 60)`,
    );
    expect(metricsOf('Mesh failures by service, method, code')).toContain('grpc_client_requests_failed_total');
  });

  it('shows mesh call latency at p50 and p99', () => {
    const metrics = metricsOf('Mesh call latency p50 / p99 (s)');
    expect(metrics).toContain(`MetricName=\\"grpc_client_request_duration_seconds\\"', 'p50'`);
    expect(metrics).toContain(`MetricName=\\"grpc_client_request_duration_seconds\\"', 'p99'`);
  });

  it('shows the breaker state and health of every mesh service', () => {
    expect(metricsOf('Circuit breaker state by service')).toContain(`{PaymentFunctions,service} MetricName=\\"circuit_breaker_state\\"', 'Maximum'`);
    expect(metricsOf('Mesh service up (health checks)')).toContain(`{PaymentFunctions,service} MetricName=\\"service_up\\"', 'Minimum'`);
  });

  it('shows the SVID\'s seconds to expiry against the alarm threshold', () => {
    expect(metricsOf('SVID seconds to expiry')).toContain(`{PaymentFunctions,spiffe_id} MetricName=\\"svid_expiry_seconds\\"', 'Minimum'`);
    expect(widget('SVID seconds to expiry').properties.annotations?.horizontal).toEqual([expect.objectContaining({ value: 43_200 })]);
  });

  it('shows whether queue consumption is paused and the breaker store\'s errors', () => {
    expect(metricsOf('Queue consumption paused (fleet breaker open)')).toContain(`{PaymentFunctions,consumer} MetricName=\\"queue_consumption_paused\\"', 'Maximum'`);
    expect(metricsOf('Breaker store errors (mesh-state)')).toContain(`{PaymentFunctions,service} MetricName=\\"breaker_store_errors_total\\"', 'Sum'`);
  });

  it('shows entitlements granted and revoked', () => {
    const metrics = metricsOf('Grants and revokes');
    expect(metrics).toContain('entitlements_granted_total');
    expect(metrics).toContain('entitlements_revoked_total');
  });

  it('shows errors, throttles and p99 duration of all four functions', () => {
    for (const title of ['Function errors', 'Function throttles', 'Function duration p99 (ms)']) {
      expect(widget(title).properties.metrics).toHaveLength(4);
    }
  });
});
