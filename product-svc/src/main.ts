// Starts product-svc (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import productService from './service.ts';

await startService(productService);
