// order-svc: accepts orders and runs the saga that confirms or cancels them, from its own
// copies of users and products.
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { runService } from '@shop/kit';
import { orderRoutes } from './api/routes.ts';
import { orderEventHandlers } from './events/handlers.ts';

await runService({
  name: 'order-svc',
  version: '0.1.0',
  description: 'Orders, and the saga that confirms or cancels them',
  port: { variable: 'ORDER_SVC_PORT', default: 3003 },
  database: 'orders',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  produces: ['order-placed', 'order-confirmed', 'order-cancelled'],
  environment: Type.Object({}),
  async setup({ sql, codec }) {
    return {
      routes: (app) => orderRoutes(app, { sql, codec }),
      handlers: orderEventHandlers(codec),
    };
  },
});
