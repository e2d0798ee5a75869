import type { Sql, Transaction } from '@shop/kit';
import type { UserChanges, UserRow } from '../domain/users.ts';

const columns = (sql: Sql | Transaction) => sql`id, username, email, full_name, role, password_hash, created_at, updated_at`;

/** The unique index a failed insert or update ran into, if that is why it failed. */
export function violatedUniqueIndex(error: unknown): 'users_username_key' | 'users_email_key' | undefined {
  const { code, constraint_name: constraint } = error as { code?: string; constraint_name?: string };
  if (code !== '23505') return undefined;
  return constraint === 'users_username_key' || constraint === 'users_email_key' ? constraint : undefined;
}

export async function insertUser(
  tx: Transaction,
  user: Pick<UserRow, 'id' | 'username' | 'email' | 'fullName' | 'role' | 'passwordHash'>,
): Promise<UserRow> {
  const values = tx(user, 'id', 'username', 'email', 'fullName', 'role', 'passwordHash');
  const [row] = await tx<UserRow[]>`insert into users ${values} returning ${columns(tx)}`;
  return row!;
}

export async function findUserById(sql: Sql | Transaction, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select ${columns(sql)} from users where id = ${id}`;
  return row;
}

/** By username or email, without regard to case (usernames cannot contain '@', so the two never collide). */
export async function findUserByLogin(sql: Sql, login: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    select ${columns(sql)} from users
    where lower(username) = lower(${login}) or lower(email) = lower(${login})`;
  return row;
}

/** Sets the columns `changes` names (a null full name clears it); undefined ones stay as they are. */
export async function updateUser(sql: Sql, id: string, changes: UserChanges): Promise<UserRow | undefined> {
  const changed = (['email', 'fullName', 'passwordHash'] as const).filter((column) => changes[column] !== undefined);
  if (changed.length === 0) throw new Error(`an update of user ${id} that changes nothing`);
  const [row] = await sql<UserRow[]>`
    update users set ${sql(changes, changed)}, updated_at = now()
    where id = ${id}
    returning ${columns(sql)}`;
  return row;
}
