import { randomUUID } from 'node:crypto';
import {
  admitToken,
  commonProblems,
  HttpProblem,
  invalidCursor,
  keysetPage,
  uniqueViolation,
  writeOutboxEvent,
  type AuthenticatedUser,
  type EventCodec,
  type Role,
  type Sql,
} from '@shop/kit';
import {
  disableUser,
  findUserById,
  findUserByLogin,
  insertUser,
  lockUsers,
  revokeTokens,
  searchUsers,
  updateUser,
} from '../data-access/users-repository.ts';
import type { Passwords } from './passwords.ts';
import { userRegistration, userUpdated } from './events.ts';
import { userProblems } from './problems.ts';

/** An account as stored. */
export interface UserRow {
  id: string;
  username: string;
  email: string;
  fullName: string | null;
  role: Role;
  passwordHash: string;
  /** When an admin disabled the account; null while it is active. */
  disabledAt: Date | null;
  /** Raised by a password change; tokens of an older generation are refused. */
  tokenGeneration: number;
  version: number;
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
  passwords: Passwords;
}

export interface Registration {
  username: string;
  email: string;
  password: string;
  fullName?: string | null | undefined;
}

function conflict(error: unknown): never {
  const index = uniqueViolation(error);
  if (index === 'users_username_key') throw userProblems.USERNAME_TAKEN('This username is already taken.');
  if (index === 'users_email_key') throw userProblems.EMAIL_TAKEN('An account with this email already exists.');
  throw error;
}

/**
 * Creates an account and its `user-registration` event in one transaction: either both
 * exist or neither does. The event carries who registered, never the password or its hash.
 */
export async function registerUser(
  { sql, codec, passwords }: UsersDependencies,
  registration: Registration,
  role: Role = 'customer',
): Promise<UserRow> {
  const passwordHash = await passwords.hash(registration.password);
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
export async function authenticate(
  { sql, passwords }: Pick<UsersDependencies, 'sql' | 'passwords'>,
  login: string,
  password: string,
): Promise<UserRow> {
  const found = await findUserByLogin(sql, login);
  const valid = found ? await passwords.verify(password, found.passwordHash) : (await passwords.spendVerificationTime(password), false);
  // Read again after the hash, which may have waited its turn for seconds: a logout, password
  // change or disable committed meanwhile must show in the token (its generation), not make
  // it a token refused at once.
  const user = found && valid ? await findUserById(sql, found.id) : undefined;
  if (!user || user.passwordHash !== found?.passwordHash) throw userProblems.INVALID_CREDENTIALS('The username or password is wrong.');
  if (user.disabledAt) throw commonProblems.ACCOUNT_DISABLED('This account has been disabled.');
  return user;
}

/**
 * user-svc's own account check: it owns the accounts, so it reads them, not a copy. One
 * primary-key read per authenticated request to user-svc (profile reads and changes, the
 * admin's tools), which are rare next to the calls the other services verify.
 */
export async function checkAccount({ sql }: Pick<UsersDependencies, 'sql'>, user: AuthenticatedUser): Promise<void> {
  const account = await findUserById(sql, user.id);
  admitToken(user, account && { disabled: account.disabledAt !== null, tokenGeneration: account.tokenGeneration });
}

/**
 * What the login limit counts attempts by: the account's id when the login names one (by
 * username or email, in any case), otherwise the login folded to one spelling.
 */
export async function loginKey({ sql }: Pick<UsersDependencies, 'sql'>, login: string): Promise<string> {
  const folded = login.normalize('NFKC').trim().toLowerCase();
  const account = folded === '' ? undefined : await findUserByLogin(sql, folded);
  return account?.id ?? folded;
}

export async function getUser({ sql }: UsersDependencies, id: string): Promise<UserRow> {
  const user = await findUserById(sql, id);
  if (!user) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
  return user;
}

export interface ProfileChanges {
  email?: string | undefined;
  fullName?: string | null | undefined;
  password?: string | undefined;
  currentPassword?: string | undefined;
}

/** The account's password hash, once `password` is shown to be its password. */
async function verifiedPasswordHash(
  { sql, passwords }: Pick<UsersDependencies, 'sql' | 'passwords'>,
  id: string,
  password: string,
): Promise<string> {
  const account = await findUserById(sql, id);
  if (!account) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
  if (!(await passwords.verify(password, account.passwordHash))) {
    throw userProblems.CURRENT_PASSWORD_WRONG('currentPassword is not the password of this account.');
  }
  return account.passwordHash;
}

/**
 * Changes a profile and writes `user-updated` (before and after) in the same transaction. A
 * new email or password needs the current password: a stolen token alone cannot take the
 * account over. A new password raises the token generation, which revokes every token issued
 * before it (here at once, elsewhere once the event arrives).
 */
export async function updateProfile({ sql, codec, passwords }: UsersDependencies, id: string, changes: ProfileChanges): Promise<UserRow> {
  if (changes.email === undefined && changes.fullName === undefined && changes.password === undefined) {
    throw commonProblems.VALIDATION_FAILED('Name at least one of email, fullName and password: currentPassword alone changes nothing.');
  }
  const sensitive = changes.email !== undefined || changes.password !== undefined;
  if (sensitive && changes.currentPassword === undefined) {
    throw userProblems.CURRENT_PASSWORD_REQUIRED('Changing the email or the password needs currentPassword.');
  }
  // The password is checked before the transaction, not under the row's lock: a hash takes a
  // scrypt slot for tens of milliseconds, and requests queued on a held lock would each hold a
  // pooled connection meanwhile (ten at once took the pool from every other request).
  const verified = sensitive ? await verifiedPasswordHash({ sql, passwords }, id, changes.currentPassword!) : undefined;
  const passwordHash = changes.password === undefined ? undefined : await passwords.hash(changes.password);
  try {
    return await sql.begin(async (tx) => {
      const before = await findUserById(tx, id, true);
      if (!before) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
      if (verified !== undefined && before.passwordHash !== verified) {
        throw userProblems.CURRENT_PASSWORD_WRONG('The password of this account changed meanwhile; currentPassword is not it now.');
      }
      const after = await updateUser(tx, id, {
        ...(changes.email === undefined ? {} : { email: changes.email }),
        ...(changes.fullName === undefined ? {} : { fullName: changes.fullName }),
        ...(passwordHash === undefined ? {} : { passwordHash }),
      });
      await writeOutboxEvent(tx, codec, userUpdated(before, after, passwordHash === undefined ? 'PROFILE_CHANGED' : 'PASSWORD_CHANGED'));
      return after;
    });
  } catch (error) {
    return conflict(error);
  }
}

/**
 * An admin disables an account: from then on its tokens are refused (by user-svc at once, by
 * the others once user-updated reaches them) and so are its new orders. Disabling a disabled
 * account changes nothing and writes nothing. An admin cannot disable their own account, so
 * that the last admin cannot lock everyone out: the ids are compared as PostgreSQL reads them
 * (in any case), and the acting admin's account is locked with the target and must still be
 * active, so that of two admins disabling each other at once the second is refused.
 */
export async function disableAccount({ sql, codec }: UsersDependencies, admin: AuthenticatedUser, id: string): Promise<UserRow> {
  return sql.begin(async (tx) => {
    const accounts = await lockUsers(tx, [id, admin.id]);
    const before = accounts.find((account) => account.id === id.toLowerCase());
    const actor = accounts.find((account) => account.id === admin.id);
    if (!before) throw userProblems.USER_NOT_FOUND(`There is no account ${id}.`);
    if (before.id === admin.id) throw userProblems.CANNOT_DISABLE_SELF('An admin cannot disable their own account.');
    if (!actor || actor.disabledAt) throw commonProblems.ACCOUNT_DISABLED('This account has been disabled.');
    if (before.disabledAt) return before;
    const after = await disableUser(tx, id);
    await writeOutboxEvent(tx, codec, userUpdated(before, after, 'DISABLED'));
    return after;
  });
}

/**
 * Logging out revokes every token of the account issued until now, on every device (tokens are
 * not tracked one by one: the account's token generation is raised, as by a password change),
 * and writes user-updated (LOGGED_OUT) so that every service refuses them.
 */
export async function logOut({ sql, codec }: UsersDependencies, id: string): Promise<void> {
  await sql.begin(async (tx) => {
    const before = await findUserById(tx, id, true);
    if (!before) throw userProblems.USER_NOT_FOUND('The account of this token no longer exists.');
    const after = await revokeTokens(tx, id);
    await writeOutboxEvent(tx, codec, userUpdated(before, after, 'LOGGED_OUT'));
  });
}

/** The admin's search: accounts whose username, email or full name contains `query`, newest first. */
export async function findAccounts({ sql }: UsersDependencies, query: string | undefined, limit: number, before: string | undefined) {
  if (before !== undefined && !(await findUserById(sql, before))) throw invalidCursor();
  const rows = await searchUsers(sql, query, limit + 1, before);
  return keysetPage(rows, limit, (user) => user.id);
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
