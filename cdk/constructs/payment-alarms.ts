import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IAlarmAction,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE, MESH_METRICS } from '../../shared/observability/metric-names.js';
import type { MeshFunction } from './mesh-function.js';

export interface PaymentAlarmsProps {
  readonly deadLetterQueue: IQueue;
  readonly functions: readonly MeshFunction[];
  /** How often mesh-health reports; the period of the alarms on what it reports. */
  readonly meshHealthInterval: Duration;
  /** `svid_expiry_seconds` below this raises the SVID alarm. */
  readonly svidExpiryThresholdSeconds: number;
  /** Queue consumption paused (the fleet's breaker open) this long raises the consumption alarm. */
  readonly consumptionPausedAlarmMinutes: number;
  /** Where every alarm notifies (alarm and back to OK); none when unset. */
  readonly action?: IAlarmAction;
}

/**
 * The alarms on-call is paged for. Mesh-wide alarms read CloudWatch Metrics Insights queries, so
 * a mesh service added later is covered without a deploy: `MAX(circuit_breaker_state)` over every
 * `service` is at least 1 as soon as one breaker is open (1) or probing (2).
 */
export class PaymentAlarms extends Construct {
  readonly deadLetterQueueNotEmpty: Alarm;
  readonly breakerOpen: Alarm;
  readonly svidExpiring: Alarm;
  readonly meshServiceDown: Alarm;
  readonly consumptionPaused: Alarm;
  readonly breakerStoreErrors: Alarm;
  readonly functionErrors: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PaymentAlarmsProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const mesh = (query: string, label: string, period: Duration) =>
      new MathExpression({ expression: query, usingMetrics: {}, label, period });

    this.deadLetterQueueNotEmpty = new Alarm(this, 'DeadLetterQueueNotEmpty', {
      alarmName: `${prefix}-dead-letter-queue-not-empty`,
      alarmDescription:
        'An entitlement command failed on every delivery and is parked in the dead-letter queue. Read its reason in the grant-entitlements logs, fix, then redrive the DLQ.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.breakerOpen = new Alarm(this, 'CircuitBreakerOpen', {
      alarmName: `${prefix}-mesh-circuit-breaker-open`,
      alarmDescription:
        'A circuit breaker towards a mesh service is open or half-open: calls to it fail fast. The dashboard shows which service and the failing codes.',
      metric: mesh(
        `SELECT MAX(${MESH_METRICS.circuitBreakerState}) FROM SCHEMA("${DEFAULT_METRICS_NAMESPACE}", service)`,
        'worst breaker state (0 closed, 1 open, 2 half-open)',
        Duration.minutes(1),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // States are written on transitions and by each health check: no data means nothing changed.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // mesh-health reports both gauges once per run. Two periods in a row must breach, and silence
    // counts as breaching: a mesh-health that stopped reporting is as blind as a mesh that is down.
    const meshHealthAlarm = { evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: TreatMissingData.BREACHING };

    this.svidExpiring = new Alarm(this, 'SvidExpiring', {
      alarmName: `${prefix}-svid-expiring`,
      alarmDescription: `The functions' X.509-SVID expires in less than ${props.svidExpiryThresholdSeconds} s and SPIRE has not rotated it: check the SPIRE agent and its aws_secretsmanager SVIDStore plugin.`,
      metric: mesh(
        `SELECT MIN(${MESH_METRICS.svidExpirySeconds}) FROM SCHEMA("${DEFAULT_METRICS_NAMESPACE}", spiffe_id)`,
        'seconds until the SVID expires',
        props.meshHealthInterval,
      ),
      threshold: props.svidExpiryThresholdSeconds,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      ...meshHealthAlarm,
    });

    this.meshServiceDown = new Alarm(this, 'MeshServiceDown', {
      alarmName: `${prefix}-mesh-service-down`,
      alarmDescription:
        'A mesh service failed its grpc.health.v1 check (or mesh-health stopped reporting). The dashboard shows which service; mesh-health logs say why.',
      metric: mesh(
        `SELECT MIN(${MESH_METRICS.serviceUp}) FROM SCHEMA("${DEFAULT_METRICS_NAMESPACE}", service)`,
        'lowest service_up (1 up, 0 down)',
        props.meshHealthInterval,
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      ...meshHealthAlarm,
    });

    // mesh-health writes the gauge on every run; a pause is normal for a short outage, so only a
    // long one pages. Missing data is not a pause: the service-down alarm covers a silent mesh-health.
    const pausedPeriods = Math.max(1, Math.ceil(props.consumptionPausedAlarmMinutes / props.meshHealthInterval.toMinutes()));
    this.consumptionPaused = new Alarm(this, 'QueueConsumptionPaused', {
      alarmName: `${prefix}-queue-consumption-paused`,
      alarmDescription: `grant-entitlements has not consumed its queue for ${props.consumptionPausedAlarmMinutes} min: the contact-service's fleet breaker is open and mesh-health paused the event source mapping. Paid events wait in the queue (14 days); they are granted once the service answers. Check the contact-service.`,
      metric: mesh(
        `SELECT MAX(${MESH_METRICS.queueConsumptionPaused}) FROM SCHEMA("${DEFAULT_METRICS_NAMESPACE}", consumer)`,
        'queue consumption paused (1 paused, 0 consuming)',
        props.meshHealthInterval,
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: pausedPeriods,
      datapointsToAlarm: pausedPeriods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.breakerStoreErrors = new Alarm(this, 'BreakerStoreErrors', {
      alarmName: `${prefix}-breaker-store-errors`,
      alarmDescription:
        'The functions cannot read or write the mesh-state table: circuit breakers run per container (every container probes a failing service on its own). Check the table, its throttling and the functions\' DynamoDB access.',
      metric: mesh(
        `SELECT SUM(${MESH_METRICS.breakerStoreErrorsTotal}) FROM SCHEMA("${DEFAULT_METRICS_NAMESPACE}", service)`,
        'failed mesh-state reads and writes',
        Duration.minutes(5),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.functionErrors = props.functions.map(
      (fn) =>
        new Alarm(this, `${fn.node.id}Errors`, {
          alarmName: `${prefix}-${fn.serviceName}-errors`,
          alarmDescription: `${fn.serviceName} invocations failed (an unhandled error, a timeout or running out of memory). Its logs and X-Ray traces say which.`,
          metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
    );

    if (props.action) {
      for (const alarm of this.all) {
        alarm.addAlarmAction(props.action);
        alarm.addOkAction(props.action);
      }
    }
  }

  /** Every alarm, for an action or a status widget. */
  get all(): Alarm[] {
    return [
      this.deadLetterQueueNotEmpty,
      this.breakerOpen,
      this.svidExpiring,
      this.meshServiceDown,
      this.consumptionPaused,
      this.breakerStoreErrors,
      ...this.functionErrors,
    ];
  }
}
