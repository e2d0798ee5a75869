import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const productProblems = defineProblems({
  INVALID_IF_MATCH: 400,
  INVALID_PRICE_RANGE: 400,
  INVALID_SEARCH_QUERY: 400,
  INVALID_STOCK_CHANGE: 400,
  PRODUCT_NOT_FOUND: 404,
  STOCK_OUT_OF_RANGE: 409,
  VERSION_MISMATCH: 412,
});
