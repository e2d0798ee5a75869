// Starts order-svc (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import orderService from './service.ts';

await startService(orderService);
