// The kit's migrations against the real PostgreSQL, in a scratch database: a migration and the
// row that records it commit together, so a run that fails between them (a process killed,
// here a trigger that refuses the record) leaves neither, and the next run applies it once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, type Sql } from '@shop/kit';
import { connectAsSuperuser } from '../harness/stack.ts';

const database = 'kit_migrations_test';
const table = 'test_migrations';
// One connection: after a failed run, the next query shows whether it came back clean.
const connect = (db: string) => connectAsSuperuser(db, 1);

let sql: Sql;
let directory: string;

beforeAll(async () => {
  const admin = connect('postgres');
  await admin.unsafe(`drop database if exists ${database}`);
  await admin.unsafe(`create database ${database}`);
  await admin.end();
  sql = connect(database);
  directory = mkdtempSync(join(tmpdir(), 'migrations-'));
});

afterAll(async () => {
  await sql?.end();
  rmSync(directory, { recursive: true, force: true });
});

const tableExists = async (name: string) => (await sql`select to_regclass(${name}) is not null as exists`)[0]?.['exists'] as boolean;

it('applies a migration and its record together, or neither', async () => {
  writeFileSync(join(directory, '001.do.first.sql'), 'CREATE TABLE first_table (id int);');
  expect((await migrate(sql, directory, table)).applied).toEqual(['001.do.first.sql']);

  // The record of the next migration is refused, as if the process died before writing it.
  await sql.unsafe(`
    create function refuse_record() returns trigger language plpgsql as $$ begin raise exception 'no record'; end $$;
    create trigger refuse_record before insert on ${table} for each row execute function refuse_record();`);
  writeFileSync(join(directory, '002.do.second.sql'), 'CREATE TABLE second_table (id int);');
  await expect(migrate(sql, directory, table)).rejects.toThrow(/no record/);
  expect(await tableExists('second_table')).toBe(false);
  expect(await sql`select 1 as alive`).toEqual([{ alive: 1 }]);

  await sql.unsafe(`drop trigger refuse_record on ${table}`);
  expect((await migrate(sql, directory, table)).applied).toEqual(['002.do.second.sql']);
  expect(await tableExists('second_table')).toBe(true);
  // Version 0 is postgrator's own row, the state before any migration.
  expect((await sql`select version from ${sql(table)} where version > 0 order by version`).map((row) => Number(row['version']))).toEqual([
    1, 2,
  ]);
  expect((await migrate(sql, directory, table)).applied).toEqual([]);
});
