// Starts user-svc (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import userService from './service.ts';

await startService(userService);
