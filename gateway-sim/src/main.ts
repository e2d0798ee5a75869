// The payment gateway simulator: stands in for an external card processor, with a durable
// ledger (database `gateway`) so that "never charged twice" can be checked after any restart.
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { runService } from '@shop/kit';
import { gatewayRoutes } from './api/routes.ts';

await runService({
  name: 'gateway-sim',
  version: '0.1.0',
  description: 'Simulated card processor: charges, refunds, idempotency keys, and a ledger',
  port: { variable: 'GATEWAY_PORT', default: 3005 },
  database: 'gateway',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  produces: [],
  environment: Type.Object({}),
  async setup({ sql }) {
    return { routes: (app) => gatewayRoutes(app, { sql }) };
  },
});
