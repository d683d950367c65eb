import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appConfigFromContext } from './config.js';
import { EntitlementsDataStack } from './stacks/entitlements-data-stack.js';
import { PaymentFunctionsStack } from './stacks/payment-functions-stack.js';

const app = new App();
const config = appConfigFromContext(app.node);
const env = { account: config.account, region: config.region };

const data = new EntitlementsDataStack(app, `${config.stackPrefix}-data`, { env, config });
new PaymentFunctionsStack(app, config.stackPrefix, { env, config, table: data.table, meshStateTable: data.meshStateTable });

// Synthesis fails on any AwsSolutions finding that is not acknowledged, with its reason, in code.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
