import type { Sql, Transaction, Role } from '@shop/kit';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  fullName: string | null;
  role: Role;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Sql | Transaction) =>
  sql`id, username, email, full_name as "fullName", role, password_hash as "passwordHash", created_at as "createdAt", updated_at as "updatedAt"`;

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
  const [row] = await tx<UserRow[]>`
    insert into users (id, username, email, full_name, role, password_hash)
    values (${user.id}, ${user.username}, ${user.email}, ${user.fullName}, ${user.role}, ${user.passwordHash})
    returning ${columns(tx)}`;
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

export async function updateUser(
  sql: Sql,
  id: string,
  changes: { email?: string; fullName?: string | null; passwordHash?: string },
): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    update users set
      email         = coalesce(${changes.email ?? null}, email),
      full_name     = ${changes.fullName === undefined ? sql`full_name` : changes.fullName},
      password_hash = coalesce(${changes.passwordHash ?? null}, password_hash),
      updated_at    = now()
    where id = ${id}
    returning ${columns(sql)}`;
  return row;
}
