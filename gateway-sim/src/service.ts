// The payment gateway simulator: stands in for an external card processor, with a durable
// ledger (database `gateway`) so that "never charged twice" can be checked after any restart.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { gatewayRoutes } from './api/routes.ts';
import { gatewayProblems } from './domain/problems.ts';

/** gateway-sim's own variables (the shared ones are in kit/src/service/config.ts). */
export const GatewayEnvironment = Type.Object({
  GATEWAY_SIM_SLOW_ANSWER_MS: Type.Integer({
    minimum: 0,
    default: 8_000,
    description: "How late tok_slow's first answer comes; longer than payment-svc's GATEWAY_TIMEOUT_MS, so that answer is lost",
  }),
});

export default defineService({
  name: 'gateway-sim',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: GatewayEnvironment,
  problems: gatewayProblems,
  setup: ({ sql, env }) => ({ routes: (app) => gatewayRoutes(app, { sql, settings: { slowAnswerMs: env.GATEWAY_SIM_SLOW_ANSWER_MS } }) }),
});
