// Starts notification-svc (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import notificationService from './service.ts';

await startService(notificationService);
