import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const gatewayProblems = defineProblems({
  CARD_DECLINED: 402,
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_TOKEN: 400,
  TEMPORARILY_UNAVAILABLE: 503,
  CHARGE_NOT_FOUND: 404,
  CHARGE_NOT_REFUNDABLE: 409,
  ALREADY_REFUNDED: 409,
  CHARGE_VOIDED: 409,
});
