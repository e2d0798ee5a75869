import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const userProblems = defineProblems({
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  INVALID_CREDENTIALS: 401,
  USER_NOT_FOUND: 404,
});
