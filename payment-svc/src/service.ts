// payment-svc: charges placed orders through the payment gateway and refunds cancelled ones.
import { Type } from 'typebox';
import { defineService, serviceUrl } from '@shop/kit';
import { registerPaymentMetrics } from './api/metrics.ts';
import { paymentRoutes } from './api/routes.ts';
import { GatewayClient } from './data-access/gateway-client.ts';
import { paymentProblems } from './domain/problems.ts';
import { insertPendingPaymentsOfBatch, saveChargeOutcomes, type RetrySettings } from './domain/payments.ts';
import { paymentEventHandlers } from './events/handlers.ts';
import { paymentRetryJob } from './jobs/payment-retries.ts';

/** payment-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const PaymentServiceEnvironment = Type.Object({
  GATEWAY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000, description: 'Timeout of one gateway call' }),
  GATEWAY_QUICK_ATTEMPTS: Type.Integer({
    minimum: 1,
    default: 3,
    description:
      'Gateway calls an event handler makes (within one GATEWAY_TIMEOUT_MS) before it leaves a charge or refund to the retry job',
  }),
  GATEWAY_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200, description: 'First delay between those calls (doubling, jittered)' }),
  PAYMENT_RETRY_EVERY_MS: Type.Integer({
    minimum: 100,
    default: 1_000,
    description: 'How often the retry job looks for due charges and refunds',
  }),
  PAYMENT_RETRY_BASE_MS: Type.Integer({
    minimum: 100,
    default: 1_000,
    description: 'First delay before a pending charge or refund is tried again (doubling, jittered)',
  }),
  PAYMENT_RETRY_MAX_MS: Type.Integer({
    minimum: 1_000,
    default: 60_000,
    description: 'The longest delay between two tries of a pending charge or refund',
  }),
});

/**
 * Orders of one consumed batch charged (or settled) at once. Each charge waits on the gateway
 * inside the batch's transaction, so this bounds how long a batch holds the partition: at 8, a
 * batch of 60 orders at 200/s took eight calls' time and the saga fell seconds behind.
 */
const PAYMENT_KEYS_IN_PARALLEL = 64;

export default defineService({
  name: 'payment-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: PaymentServiceEnvironment,
  problems: paymentProblems,
  setup({ env, sql, codec, logger, metrics }) {
    // The simulator's address follows the manifest: GATEWAY_SIM_URL, or loopback at GATEWAY_SIM_PORT.
    const gateway = new GatewayClient({ url: serviceUrl('gateway-sim'), timeoutMs: env.GATEWAY_TIMEOUT_MS });
    const retry: RetrySettings = {
      quickAttempts: env.GATEWAY_QUICK_ATTEMPTS,
      quickBackoff: { baseMs: env.GATEWAY_RETRY_BASE_MS, maxMs: 5_000 },
      callTimeoutMs: env.GATEWAY_TIMEOUT_MS,
      jobBackoff: { baseMs: env.PAYMENT_RETRY_BASE_MS, maxMs: env.PAYMENT_RETRY_MAX_MS },
    };
    registerPaymentMetrics(metrics, sql);
    return {
      routes: async (app) => {
        await paymentRoutes(app, { sql });
      },
      handlers: paymentEventHandlers({ codec, gateway, retry }),
      // Each order's charge is a gateway call made inside the batch's transaction; one after
      // the other, a batch of 50 orders waited for 50 calls. Orders touch only their own rows.
      keysInParallel: PAYMENT_KEYS_IN_PARALLEL,
      lockBatch: insertPendingPaymentsOfBatch,
      finishBatch: saveChargeOutcomes,
      jobs: [paymentRetryJob({ sql, codec, gateway, retry, logger }, env.PAYMENT_RETRY_EVERY_MS)],
    };
  },
});
