import type { Sql, Transaction } from '../db/connect.ts';
import type { UserUpdated } from '../../../schemas/types.generated.ts';
import type { AuthenticatedUser } from './auth.ts';
import { commonProblems } from './problem.ts';

/**
 * Decides whether a verified token's account may still act: throws TOKEN_REVOKED for a token
 * of an older generation than the account's, ACCOUNT_DISABLED for a disabled account.
 */
export type AccountCheck = (user: AuthenticatedUser) => Promise<void>;

export interface AccountStanding {
  disabled: boolean;
  tokenGeneration: number;
}

/** The one rule every service applies, whichever copy of the account's standing it reads. */
export function admitToken(user: AuthenticatedUser, standing: AccountStanding | undefined): void {
  if (!standing) return;
  if (standing.disabled) throw commonProblems.ACCOUNT_DISABLED('This account has been disabled.');
  if (user.tokenGeneration < standing.tokenGeneration) {
    throw commonProblems.TOKEN_REVOKED('This token was revoked (the password changed since it was issued); log in again.');
  }
}

const CACHE_TTL_MS = 1_000;
const CACHE_MAX_ENTRIES = 10_000;

/**
 * The check of a service that follows user-updated into its `account_states` table (the kit's
 * handler below). Each account's row is read at most once a second per process: a revocation
 * takes effect within a second of the event being applied here, and a busy client costs one
 * primary-key read a second rather than one per request.
 */
export function accountStatesCheck(sql: Sql): AccountCheck & { forget(userId: string): void } {
  const cache = new Map<string, { standing: AccountStanding | undefined; until: number }>();
  const check = async (user: AuthenticatedUser) => {
    let cached = cache.get(user.id);
    if (!cached || cached.until < Date.now()) {
      const [row] = await sql<AccountStanding[]>`select disabled, token_generation from account_states where user_id = ${user.id}`;
      if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
      cached = { standing: row, until: Date.now() + CACHE_TTL_MS };
      cache.set(user.id, cached);
    }
    admitToken(user, cached.standing);
  };
  return Object.assign(check, { forget: (userId: string) => void cache.delete(userId) });
}

/** user-updated: remember the account's standing, unless a newer version is already known. */
export async function rememberAccountState(tx: Transaction, update: UserUpdated): Promise<void> {
  const state = {
    userId: update.userId,
    disabled: update.after.disabled,
    tokenGeneration: update.after.tokenGeneration,
    version: update.after.version,
  };
  await tx`
    insert into account_states ${tx(state, 'userId', 'disabled', 'tokenGeneration', 'version')}
    on conflict (user_id) do update set
      disabled = excluded.disabled, token_generation = excluded.token_generation, version = excluded.version
    where account_states.version < excluded.version`;
}
