import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const orderProblems = defineProblems({
  IDEMPOTENCY_KEY_REUSED: 422,
  DUPLICATE_ITEM: 400,
  USER_UNKNOWN: 422,
  PRODUCT_UNKNOWN: 422,
  CURRENCY_MISMATCH: 422,
  ORDER_NOT_FOUND: 404,
  ORDER_NOT_CANCELLABLE: 409,
  INVALID_TIME_RANGE: 400,
});
