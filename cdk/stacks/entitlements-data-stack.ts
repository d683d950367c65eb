import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ENTITLEMENT_ATTRIBUTES } from '../../shared/entitlements/entitlements-table.js';
import type { AppConfig } from '../config.js';

export interface EntitlementsDataStackProps extends StackProps {
  readonly config: Pick<AppConfig, 'entitlementsTableName'>;
}

/**
 * The entitlements table, in a stack of its own: the functions' stack can be destroyed and
 * deployed again (a new VPC, a renamed queue) without CloudFormation ever touching the data.
 */
export class EntitlementsDataStack extends Stack {
  readonly table: Table;

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
  }
}
