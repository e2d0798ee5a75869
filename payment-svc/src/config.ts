import { Type } from 'typebox';

/** payment-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const PaymentServiceEnvironment = Type.Object({
  GATEWAY_URL: Type.String({ format: 'uri', default: 'http://127.0.0.1:3005' }),
  GATEWAY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 4, description: 'Charge attempts on transient gateway errors before PAYMENT_ERROR' }),
  GATEWAY_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200 }),
  GATEWAY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
});
