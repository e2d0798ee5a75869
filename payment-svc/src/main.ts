// Starts payment-svc (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import paymentService from './service.ts';

await startService(paymentService);
