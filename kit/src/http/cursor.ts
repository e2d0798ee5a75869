import { commonProblems } from './problem.ts';

// Keyset pagination cursors: opaque to clients, they hold the id of the last row of a page,
// and the next page starts after that row's position in the listing's order.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** 400 INVALID_CURSOR: a cursor this listing did not issue, or whose row is gone. */
export const invalidCursor = () => commonProblems.INVALID_CURSOR('The cursor does not come from this listing.');

/** The row id in a cursor; 400 INVALID_CURSOR for anything this API did not issue. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!UUID.test(id)) throw invalidCursor();
  return id;
}
