import { UUID_PATTERN } from '../uuid.ts';
import { commonProblems } from './problem.ts';

// Keyset pagination cursors: opaque to clients, they hold the id of the last row of a page,
// and the next page starts after that row's position in the listing's order.

export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** 400 INVALID_CURSOR: a cursor this listing did not issue, or whose row is gone. */
export const invalidCursor = () => commonProblems.INVALID_CURSOR('The cursor does not come from this listing.');

/** The row id in a cursor; 400 INVALID_CURSOR for anything this API did not issue. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!UUID_PATTERN.test(id)) throw invalidCursor();
  return id;
}

/** The row id a listing's `cursor` query parameter names; undefined for the first page. */
export const cursorPosition = (cursor: string | undefined): string | undefined => (cursor === undefined ? undefined : decodeCursor(cursor));

/** A page of a keyset listing: its rows, and the id of the last one when more follow. */
export interface KeysetPage<Row> {
  items: Row[];
  last: string | undefined;
}

/**
 * The page of `limit` rows out of the `limit + 1` a keyset query read (the extra row only says
 * that there is a next page); `idOf` names the row a cursor points at.
 */
export function keysetPage<Row>(rows: Row[], limit: number, idOf: (row: Row) => string): KeysetPage<Row> {
  const items = rows.slice(0, limit);
  return { items, last: rows.length > limit && items.length > 0 ? idOf(items.at(-1)!) : undefined };
}

/** A listing's answer, `{items, nextCursor}`: each row shown, and the cursor of the next page (null on the last). */
export function pageAnswer<Row, Shown>(page: KeysetPage<Row>, show: (row: Row) => Shown): { items: Shown[]; nextCursor: string | null } {
  return { items: page.items.map(show), nextCursor: page.last === undefined ? null : encodeCursor(page.last) };
}
