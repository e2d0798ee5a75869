// The bench tells PostgreSQL's CPU by kind of process from the processes' titles.
import { expect, it } from 'vitest';
import { postgresProcessKind } from '../bench/resources.ts';

it.each([
  ['postgres: orders orders 127.0.0.1(41822) idle', 'backends: orders'],
  ['postgres: product_svc products 127.0.0.1(41822) SELECT', 'backends: products'],
  ['postgres: postgres postgres [local] idle', 'backends: postgres'],
  ['postgres: walsender cdc 127.0.0.1(41830) START_REPLICATION', 'WAL senders'],
  ['postgres: autovacuum worker orders', 'autovacuum'],
  ['postgres: autovacuum launcher', 'background'],
  ['postgres: checkpointer', 'background'],
  ['postgres: 15/main: walwriter', 'background'],
  ['postgres: shop: orders orders 127.0.0.1(5) idle in transaction', 'backends: orders'],
  ['/usr/lib/postgresql/15/bin/postgres -D /data -c config_file=/data/postgresql.conf', 'postmaster'],
  ['', 'postmaster'],
])('%s → %s', (title, kind) => {
  expect(postgresProcessKind(title)).toBe(kind);
});
