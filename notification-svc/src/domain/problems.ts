import { defineProblems } from '@shop/kit';

/** The problem codes of its routes besides the kit's common ones (see docs/contract.md). */
export const notificationProblems = defineProblems({
  NOTIFICATION_NOT_FOUND: 404,
});
