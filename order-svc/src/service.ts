// order-svc: accepts orders and runs the saga that confirms or cancels them, from its own
// copies of users and products.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { orderRoutes } from './api/routes.ts';
import { orderProblems } from './domain/problems.ts';
import { orderEventHandlers } from './events/handlers.ts';

export default defineService({
  name: 'order-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: Type.Object({}),
  problems: orderProblems,
  setup: ({ sql, codec }) => ({
    routes: (app) => orderRoutes(app, { sql, codec }),
    handlers: orderEventHandlers(codec),
  }),
});
