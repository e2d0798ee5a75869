import { encodeCursor, decodeCursor, invalidCursor, MAX_PRICE_CENTS, UUID_PATTERN } from '@shop/kit';
import type { ListingPosition, ProductSort } from '../domain/products.ts';
import { MAX_NAME_LENGTH } from './schemas.ts';

// The cursors of GET /products, opaque to clients. The default order (creation) keeps the
// kit's cursor, the id of the last product, so cursors issued before sorting existed stay
// valid. The other sorts carry the last product's sort key and id, base64url-encoded JSON
// `[sort, key, id]`: the next page starts after that (key, id) even if the product's price or
// name changed meanwhile, and a cursor of one sort is refused by another.

export function encodeListingCursor(position: ListingPosition): string {
  switch (position.sort) {
    case 'created':
      return encodeCursor(position.id);
    case 'price':
    case '-price':
      return Buffer.from(JSON.stringify([position.sort, position.priceCents, position.id])).toString('base64url');
    case 'name':
      return Buffer.from(JSON.stringify([position.sort, position.name, position.id])).toString('base64url');
  }
}

/** The position in a cursor of the listing sorted by `sort`; 400 INVALID_CURSOR for anything else. */
export function decodeListingCursor(cursor: string, sort: ProductSort): ListingPosition {
  if (sort === 'created') return { sort, id: decodeCursor(cursor) };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalidCursor();
  const [cursorSort, key, id] = decoded as unknown[];
  if (cursorSort !== sort || typeof id !== 'string' || !UUID_PATTERN.test(id)) throw invalidCursor();
  if (sort === 'name') {
    // A NUL cannot be in a stored name, and PostgreSQL would refuse it as a parameter (a 500).
    if (typeof key !== 'string' || key.length === 0 || [...key].length > MAX_NAME_LENGTH || key.includes('\u0000')) throw invalidCursor();
    return { sort, name: key, id };
  }
  if (!Number.isSafeInteger(key) || (key as number) < 0 || (key as number) > MAX_PRICE_CENTS) throw invalidCursor();
  return { sort, priceCents: key as number, id };
}
