// product-svc: the catalog (admin-managed products, public listing) and its stock, reserved
// for orders and released when they are cancelled.
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { runService } from '@shop/kit';
import { productRoutes } from './api/routes.ts';
import { inventoryEventHandlers } from './events/handlers.ts';

await runService({
  name: 'product-svc',
  version: '0.1.0',
  description: 'The catalog: products, prices and stock',
  port: { variable: 'PRODUCT_SVC_PORT', default: 3002 },
  database: 'products',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  produces: ['product-update', 'inventory-reserved', 'inventory-rejected'],
  environment: Type.Object({}),
  async setup({ sql, codec }) {
    return { routes: (app) => productRoutes(app, { sql, codec }), handlers: inventoryEventHandlers(codec) };
  },
});
