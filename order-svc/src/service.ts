// order-svc: accepts orders and runs the saga that confirms or cancels them, from its own
// copies of users and products.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { orderRoutes } from './api/routes.ts';
import { orderProblems } from './domain/problems.ts';
import { CatalogFreshness } from './domain/catalog-freshness.ts';
import { lockReportedOrders, saveDecisions } from './domain/orders.ts';
import { orderEventHandlers } from './events/handlers.ts';
import { orderDeadline } from './jobs/order-deadline.ts';

/** order-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const OrderServiceEnvironment = Type.Object({
  ORDER_DEADLINE_MS: Type.Integer({
    minimum: 1_000,
    default: 900_000,
    description: 'How long an order may stay PENDING before it is cancelled TIMED_OUT (a saga step was lost or never answered)',
  }),
});

export default defineService({
  name: 'order-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: OrderServiceEnvironment,
  problems: orderProblems,
  setup: ({ env, sql, codec, logger, metrics }) => {
    return {
      routes: (app) => orderRoutes(app, { sql, codec }),
      handlers: orderEventHandlers(codec),
      lockBatch: lockReportedOrders,
      finishBatch: saveDecisions,
      // An order's two reports (payment, stock) come on two topics, often in one fetch: its
      // decisions are staged per transaction, each seeing the one before, so they may share it
      // (tests/integration/order-reports.test.ts reports one order twice in a batch).
      gatherSharedKeys: true,
      filter: new CatalogFreshness(),
      jobs: [orderDeadline({ sql, codec }, logger, metrics, env.ORDER_DEADLINE_MS)],
    };
  },
});
