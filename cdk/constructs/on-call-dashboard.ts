import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  TextWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE, MESH_METRICS } from '../../shared/observability/metric-names.js';
import type { MeshFunction } from './mesh-function.js';

export interface OnCallDashboardProps {
  readonly dashboardName: string;
  readonly api: IHttpApi;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly webhook: MeshFunction;
  readonly functions: readonly MeshFunction[];
  readonly alarms: readonly IAlarm[];
  readonly svidExpiryThresholdSeconds: number;
}

const WIDTH = 8;
const HEIGHT = 6;
const NS = DEFAULT_METRICS_NAMESPACE;

/** A SEARCH over the mesh's namespace: one line per dimension combination found. */
function search(schema: string, metric: string, statistic: string, label: string, period = Duration.minutes(1)): IMetric {
  return new MathExpression({
    expression: `SEARCH('{${NS},${schema}} MetricName="${metric}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label,
    period,
  });
}

/**
 * The dashboard on-call opens first, top to bottom in the order a page is triaged: alarms; is
 * Stripe reaching us; is work piling up; is the mesh answering; is our identity about to lapse;
 * which function is failing. Mesh panels use SEARCH, so a new service or method shows up unasked.
 */
export class OnCallDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OnCallDashboardProps) {
    super(scope, id);
    const graph = (title: string, left: IMetric[], extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {}) =>
      new GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });
    const perFunction = (metric: (fn: MeshFunction) => IMetric) => props.functions.map(metric);

    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            '# payment-functions on call\nStripe → **payment-webhook** → SQS → **grant-entitlements** → contact-service (mTLS) → DynamoDB. ' +
            '**get-user-info** serves `GET /users/{userId}`; **mesh-health** probes the mesh every few minutes. ' +
            'Mesh panels are per `service` / `method` / `code`; breaker state: 0 closed, 1 open, 2 half-open (the fleet\'s, from mesh-health). ' +
            'While the fleet\'s breaker is open, mesh-health pauses the queue\'s consumption; paid events wait in the queue.',
          width: 24,
          height: 2,
        }),
      ],
      [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 })],
      [
        graph('Webhook: requests per route', [
          new MathExpression({
            expression: `SEARCH('{AWS/ApiGateway,ApiId,Stage,Route} ApiId="${props.api.apiId}" MetricName="Count"', 'Sum', 60)`,
            usingMetrics: {},
            label: 'requests',
          }),
        ]),
        graph('API 4xx / 5xx', [
          props.api.metricClientError({ statistic: 'Sum', label: '4xx' }),
          props.api.metricServerError({ statistic: 'Sum', label: '5xx' }),
        ]),
        graph('Webhook duration p50 / p99 (ms)', [
          props.webhook.metricDuration({ statistic: 'p50', label: 'p50' }),
          props.webhook.metricDuration({ statistic: 'p99', label: 'p99' }),
        ]),
      ],
      [
        graph(
          'Entitlement queue: depth and oldest age',
          [
            props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'waiting' }),
            props.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'in flight' }),
          ],
          { right: [props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)' })] },
        ),
        graph('Dead-letter queue depth', [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'parked commands' }),
        ]),
        graph('Grants and revokes', [
          // Summed over every dimension set (one per entitlement): members granted or revoked.
          new MathExpression({
            expression: `SUM(SEARCH('Namespace="${NS}" MetricName="${MESH_METRICS.entitlementsGrantedTotal}"', 'Sum', 300))`,
            usingMetrics: {},
            label: 'granted',
            period: Duration.minutes(5),
          }),
          new MathExpression({
            expression: `SUM(SEARCH('Namespace="${NS}" MetricName="${MESH_METRICS.entitlementsRevokedTotal}"', 'Sum', 300))`,
            usingMetrics: {},
            label: 'revoked',
            period: Duration.minutes(5),
          }),
        ]),
      ],
      [
        graph('Mesh calls by service, method, code', [
          search('service,method,code', MESH_METRICS.requestsTotal, 'Sum', 'calls'),
        ]),
        graph('Mesh failures by service, method, code', [
          search('service,method,code', MESH_METRICS.requestsFailedTotal, 'Sum', 'failures'),
        ]),
        graph('Mesh call latency p50 / p99 (s)', [
          search('service,method,code', MESH_METRICS.requestDurationSeconds, 'p50', 'p50', Duration.minutes(5)),
          search('service,method,code', MESH_METRICS.requestDurationSeconds, 'p99', 'p99', Duration.minutes(5)),
        ]),
      ],
      [
        graph('Circuit breaker state by service', [search('service', MESH_METRICS.circuitBreakerState, 'Maximum', 'state')], {
          leftYAxis: { min: 0, max: 2, showUnits: false },
        }),
        graph('Mesh service up (health checks)', [search('service', MESH_METRICS.serviceUp, 'Minimum', 'up', Duration.minutes(5))], {
          leftYAxis: { min: 0, max: 1, showUnits: false },
        }),
        graph(
          'SVID seconds to expiry',
          [search('spiffe_id', MESH_METRICS.svidExpirySeconds, 'Minimum', 'seconds left', Duration.minutes(5))],
          { leftAnnotations: [{ value: props.svidExpiryThresholdSeconds, label: 'alarm' }], leftYAxis: { min: 0 } },
        ),
      ],
      [
        graph('Queue consumption paused (fleet breaker open)', [search('consumer', MESH_METRICS.queueConsumptionPaused, 'Maximum', 'paused')], {
          leftYAxis: { min: 0, max: 1, showUnits: false },
        }),
        graph('Breaker store errors (mesh-state)', [search('service', MESH_METRICS.breakerStoreErrorsTotal, 'Sum', 'errors', Duration.minutes(5))]),
        graph('Entitlement queue: oldest message (s)', [
          props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)', period: Duration.minutes(5) }),
        ]),
      ],
      [
        graph('Function errors', perFunction((fn) => fn.metricErrors({ statistic: 'Sum', label: fn.serviceName }))),
        graph('Function throttles', perFunction((fn) => fn.metricThrottles({ statistic: 'Sum', label: fn.serviceName }))),
        graph('Function duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: 'p99', label: fn.serviceName }))),
      ],
    ];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      widgets: rows,
    });
  }
}
