// product-svc: the catalog, and the stock it reserves and releases for orders.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { productRoutes } from './api/routes.ts';
import { productProblems } from './domain/problems.ts';
import { lockStockOfBatch, saveReservations } from './domain/inventory.ts';
import { inventoryEventHandlers } from './events/handlers.ts';

export default defineService({
  name: 'product-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: Type.Object({}),
  problems: productProblems,
  setup: ({ sql, codec }) => ({
    routes: (app) => productRoutes(app, { sql, codec }),
    handlers: inventoryEventHandlers(codec),
    lockBatch: lockStockOfBatch,
    finishBatch: saveReservations,
  }),
});
