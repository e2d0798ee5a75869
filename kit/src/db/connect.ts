import postgres from 'postgres';

export interface DatabaseSettings {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** Pool size; postgres.js opens connections lazily up to this many. */
  max?: number;
}

export type Sql = postgres.Sql;
/** A transaction handle, as passed to the callback of `sql.begin`. */
export type Transaction = postgres.TransactionSql;
/**
 * The unique constraint (or index) a failed insert or update ran into (SQLSTATE 23505), if that
 * is why it failed: the loser of two concurrent writes of the same key, told apart from any
 * other failure.
 */
export function uniqueViolation(error: unknown): string | undefined {
  const { code, constraint_name: constraint } = error as { code?: string; constraint_name?: string };
  return code === '23505' ? (constraint ?? '') : undefined;
}

export function connectDatabase(settings: DatabaseSettings): Sql {
  return postgres({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    username: settings.username,
    password: settings.password,
    max: settings.max ?? 10,
    // bigint columns (amounts in cents, counts) as JS numbers: exact up to 2^53, which no
    // amount or count here comes near, and serialisable as JSON unlike BigInt.
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => value.toString(), parse: (value: string) => Number(value) } },
    // Column names: snake_case in SQL, camelCase in TypeScript. Result columns are renamed
    // snake→camel, and the keys of `sql(object, ...columns)` camel→snake. Only names: unlike
    // `postgres.camel`, which also renames the keys inside json/jsonb values, stored JSON
    // comes back exactly as it was written.
    transform: { column: { from: postgres.toCamel, to: postgres.fromCamel } },
    // NOTICEs (e.g. "relation already exists, skipping") are not worth a log line each.
    onnotice: () => {},
  });
}
