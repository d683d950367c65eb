import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ENTITLEMENT_ATTRIBUTES } from '../../shared/entitlements/entitlements-table.js';
import { MESH_STATE_ATTRIBUTES } from '../../shared/resilience/shared-breaker/fleet-breaker-record.js';
import type { AppConfig } from '../config.js';

export interface EntitlementsDataStackProps extends StackProps {
  readonly config: Pick<AppConfig, 'entitlementsTableName' | 'meshStateTableName'>;
}

/**
 * The tables, in a stack of their own: the functions' stack can be destroyed and deployed again
 * (a new VPC, a renamed queue) without CloudFormation ever touching the data.
 */
export class EntitlementsDataStack extends Stack {
  readonly table: Table;
  /** The fleet's shared circuit breakers: one small item per mesh service, written on transitions. */
  readonly meshStateTable: Table;

  constructor(scope: Construct, id: string, props: EntitlementsDataStackProps) {
    super(scope, id, props);
    this.table = new Table(this, 'Entitlements', {
      tableName: props.config.entitlementsTableName,
      partitionKey: { name: ENTITLEMENT_ATTRIBUTES.userId, type: AttributeType.STRING },
      sortKey: { name: ENTITLEMENT_ATTRIBUTES.entitlement, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Who is entitled to what is the record of what customers paid for: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.meshStateTable = new Table(this, 'MeshState', {
      tableName: props.config.meshStateTableName,
      partitionKey: { name: MESH_STATE_ATTRIBUTES.key, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      // A breaker no transition touched for a day is gone; a missing item reads as closed.
      timeToLiveAttribute: MESH_STATE_ATTRIBUTES.expiresAt,
      // A few items of seconds-old state: cheap to keep recoverable, nothing to keep past the stack.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
