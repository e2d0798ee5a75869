import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const userProblems = defineProblems({
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  INVALID_CREDENTIALS: 401,
  USER_NOT_FOUND: 404,
  CURRENT_PASSWORD_REQUIRED: 400,
  CURRENT_PASSWORD_WRONG: 403,
  CANNOT_DISABLE_SELF: 409,
  TOO_BUSY: 503,
});
