// Starts gateway-sim (its definition, with no side effect on import, is in service.ts).
import { startService } from '@shop/kit';
import gatewayService from './service.ts';

await startService(gatewayService);
