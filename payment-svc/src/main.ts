// payment-svc: charges placed orders through the payment gateway and refunds cancelled ones.
import { fileURLToPath } from 'node:url';
import { runService } from '@shop/kit';
import { paymentRoutes } from './api/routes.ts';
import { PaymentServiceEnvironment } from './config.ts';
import { GatewayClient } from './data-access/gateway-client.ts';
import { paymentEventHandlers } from './events/handlers.ts';

await runService({
  name: 'payment-svc',
  version: '0.1.0',
  description: 'Charges and refunds orders through the payment gateway',
  port: { variable: 'PAYMENT_SVC_PORT', default: 3004 },
  database: 'payments',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  produces: ['payment-success', 'payment-failure', 'payment-refunded'],
  environment: PaymentServiceEnvironment,
  async setup({ env, sql, codec }) {
    const gateway = new GatewayClient({
      url: env.GATEWAY_URL,
      maxAttempts: env.GATEWAY_MAX_ATTEMPTS,
      retryBaseMs: env.GATEWAY_RETRY_BASE_MS,
      timeoutMs: env.GATEWAY_TIMEOUT_MS,
    });
    return {
      routes: (app) => paymentRoutes(app, { sql }),
      handlers: paymentEventHandlers({ codec, gateway }),
    };
  },
});
