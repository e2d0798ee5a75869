import { randomUUID } from 'node:crypto';
import { HttpProblem, writeOutboxEvent, type EventCodec, type Role, type Sql } from '@shop/kit';
import { findUserById, findUserByLogin, insertUser, updateUser, violatedUniqueIndex } from '../data-access/users-repository.ts';
import { hashPassword, spendVerificationTime, verifyPassword } from './passwords.ts';
import { userRegistration } from './events.ts';
import { userProblems } from './problems.ts';

/** An account as stored. */
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

/** What a profile update may change; a null full name clears it. */
export interface UserChanges {
  email?: string;
  fullName?: string | null;
  passwordHash?: string;
}

export interface UsersDependencies {
  sql: Sql;
  codec: EventCodec;
}

export interface Registration {
  username: string;
  email: string;
  password: string;
  fullName?: string | null | undefined;
}

function conflict(error: unknown): never {
  const index = violatedUniqueIndex(error);
  if (index === 'users_username_key') throw userProblems.USERNAME_TAKEN('This username is already taken.');
  if (index === 'users_email_key') throw userProblems.EMAIL_TAKEN('An account with this email already exists.');
  throw error;
}

/**
 * Creates an account and its `user-registration` event in one transaction: either both
 * exist or neither does. The event carries who registered, never the password or its hash.
 */
export async function registerUser(
  { sql, codec }: UsersDependencies,
  registration: Registration,
  role: Role = 'customer',
): Promise<UserRow> {
  const passwordHash = await hashPassword(registration.password);
  try {
    return await sql.begin(async (tx) => {
      const user = await insertUser(tx, {
        id: randomUUID(),
        username: registration.username,
        email: registration.email,
        fullName: registration.fullName ?? null,
        role,
        passwordHash,
      });
      await writeOutboxEvent(tx, codec, userRegistration(user));
      return user;
    });
  } catch (error) {
    return conflict(error);
  }
}

/** The account a username-or-email and password belong to; one answer for every kind of mismatch. */
export async function authenticate({ sql }: UsersDependencies, login: string, password: string): Promise<UserRow> {
  const user = await findUserByLogin(sql, login);
  const valid = user ? await verifyPassword(password, user.passwordHash) : (await spendVerificationTime(password), false);
  if (!user || !valid) throw userProblems.INVALID_CREDENTIALS('The username or password is wrong.');
  return user;
}

export async function getUser({ sql }: UsersDependencies, id: string): Promise<UserRow> {
  const user = await findUserById(sql, id);
  if (!user) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
  return user;
}

export async function updateProfile(
  { sql }: UsersDependencies,
  id: string,
  changes: { email?: string; fullName?: string | null; password?: string },
): Promise<UserRow> {
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  let user: UserRow | undefined;
  try {
    user = await updateUser(sql, id, {
      ...(changes.email === undefined ? {} : { email: changes.email }),
      ...(changes.fullName === undefined ? {} : { fullName: changes.fullName }),
      ...(passwordHash === undefined ? {} : { passwordHash }),
    });
  } catch (error) {
    return conflict(error);
  }
  if (!user) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
  return user;
}

/**
 * The admin account from ADMIN_USERNAME / ADMIN_PASSWORD, created (with its event, so other
 * services know it) the first time the service starts. Later starts leave it alone: its
 * password is then changed through PATCH /users/me, not by editing the environment.
 */
export async function ensureAdmin(
  dependencies: UsersDependencies,
  admin: { username: string; email: string; password: string },
): Promise<{ created: boolean; user: UserRow }> {
  const existing = await findUserByLogin(dependencies.sql, admin.username);
  if (existing) {
    if (existing.role !== 'admin') throw new Error(`ADMIN_USERNAME '${admin.username}' belongs to an account that is not an admin`);
    return { created: false, user: existing };
  }
  try {
    return { created: true, user: await registerUser(dependencies, { ...admin, fullName: 'Administrator' }, 'admin') };
  } catch (error) {
    // Another instance created it at the same moment.
    const winner = await findUserByLogin(dependencies.sql, admin.username);
    if (error instanceof HttpProblem && winner?.role === 'admin') return { created: false, user: winner };
    throw error;
  }
}
