// payment-svc: charges placed orders through the payment gateway and refunds cancelled ones.
import { Type } from 'typebox';
import { defineService, serviceUrl } from '@shop/kit';
import { paymentRoutes } from './api/routes.ts';
import { GatewayClient } from './data-access/gateway-client.ts';
import { paymentProblems } from './domain/problems.ts';
import { paymentEventHandlers } from './events/handlers.ts';

/** payment-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const PaymentServiceEnvironment = Type.Object({
  GATEWAY_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    default: 4,
    description: 'Charge attempts on transient gateway errors before PAYMENT_ERROR',
  }),
  GATEWAY_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200 }),
  GATEWAY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
});

export default defineService({
  name: 'payment-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: PaymentServiceEnvironment,
  problems: paymentProblems,
  setup({ env, sql, codec }) {
    const gateway = new GatewayClient({
      // The simulator's address follows the manifest: GATEWAY_SIM_URL, or loopback at GATEWAY_SIM_PORT.
      url: serviceUrl('gateway-sim'),
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
