import type { Sql, Transaction } from '@shop/kit';
import type { UserChanges, UserRow } from '../domain/users.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) =>
  sql`id, username, email, full_name, role, password_hash, disabled_at, token_generation, version, created_at, updated_at`;

export async function insertUser(
  tx: Transaction,
  user: Pick<UserRow, 'id' | 'username' | 'email' | 'fullName' | 'role' | 'passwordHash'>,
): Promise<UserRow> {
  const values = tx(user, 'id', 'username', 'email', 'fullName', 'role', 'passwordHash');
  const [row] = await tx<UserRow[]>`insert into users ${values} returning ${columns(tx)}`;
  return row!;
}

export async function findUserById(sql: Db, id: string, lock = false): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select ${columns(sql)} from users where id = ${id} ${lock ? sql`for update` : sql``}`;
  return row;
}

/** Accounts by id, locked in id order, so that two transactions locking the same ones never deadlock. */
export async function lockUsers(tx: Transaction, ids: string[]): Promise<UserRow[]> {
  return tx<UserRow[]>`select ${columns(tx)} from users where id = any(${ids}::uuid[]) order by id for update`;
}

/** By username or email, without regard to case (usernames cannot contain '@', so the two never collide). */
export async function findUserByLogin(sql: Sql, login: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    select ${columns(sql)} from users
    where lower(username) = lower(${login}) or lower(email) = lower(${login})`;
  return row;
}

/**
 * Sets the columns `changes` names (a null full name clears it; undefined ones stay as they
 * are), one version more, and a new token generation when the password changed.
 */
export async function updateUser(tx: Transaction, id: string, changes: UserChanges): Promise<UserRow> {
  const changed = (['email', 'fullName', 'passwordHash'] as const).filter((column) => changes[column] !== undefined);
  if (changed.length === 0) throw new Error(`an update of user ${id} that changes nothing`);
  const [row] = await tx<UserRow[]>`
    update users set ${tx(changes, changed)}, version = version + 1, updated_at = now(),
      token_generation = token_generation + ${changes.passwordHash === undefined ? 0 : 1}
    where id = ${id}
    returning ${columns(tx)}`;
  return row!;
}

export async function disableUser(tx: Transaction, id: string): Promise<UserRow> {
  const [row] = await tx<UserRow[]>`
    update users set disabled_at = now(), version = version + 1, updated_at = now()
    where id = ${id}
    returning ${columns(tx)}`;
  return row!;
}

/** One token generation more: every token issued before is refused from then on. */
export async function revokeTokens(tx: Transaction, id: string): Promise<UserRow> {
  const [row] = await tx<UserRow[]>`
    update users set token_generation = token_generation + 1, version = version + 1, updated_at = now()
    where id = ${id}
    returning ${columns(tx)}`;
  return row!;
}

/** `%` and `_` in a search text are meant literally. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;

/**
 * Accounts whose username, email or full name contains `query` (any case), newest first,
 * after the account named by `before`. An infix match cannot use a btree index: it reads the
 * accounts in the order of users_by_created until the page is full, which suits an admin's
 * occasional search; a shop with millions of accounts would add pg_trgm (docs/operations.md).
 */
export function searchUsers(sql: Sql, query: string | undefined, limit: number, before: string | undefined): Promise<UserRow[]> {
  const matching = query
    ? sql`and (username ilike ${likePattern(query)} or email ilike ${likePattern(query)} or full_name ilike ${likePattern(query)})`
    : sql``;
  const position = before ? sql`and (created_at, id) < (select created_at, id from users where id = ${before})` : sql``;
  return sql<UserRow[]>`
    select ${columns(sql)} from users
    where true ${matching} ${position}
    order by created_at desc, id desc
    limit ${limit}`;
}
