// The payment gateway simulator: stands in for an external card processor, with a durable
// ledger (database `gateway`) so that "never charged twice" can be checked after any restart.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { gatewayRoutes } from './api/routes.ts';
import { gatewayProblems } from './domain/problems.ts';

export default defineService({
  name: 'gateway-sim',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: Type.Object({}),
  problems: gatewayProblems,
  setup: ({ sql }) => ({ routes: (app) => gatewayRoutes(app, { sql }) }),
});
