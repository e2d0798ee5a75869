// Every outbox connector's replication slot must advance while its database is idle and
// others write: a slot that does not pins the cluster's WAL until max_slot_wal_keep_size
// invalidates it, and that service's events stop for good. (PostgreSQL's WAL is shared by
// every database; a slot only confirms what its connector has read from its own database.)
// The connectors' heartbeat action writes a logical message into each database every 10 s
// (connect/outbox-connector.json), which gives an idle connector something to confirm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxDatabases, type Sql } from '@shop/kit';
import { connectAsSuperuser, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const scratchDatabase = 'slot_advance_test';
const WRITE_FOR_MS = 60_000;

interface SlotPosition {
  slotName: string;
  /** Bytes of WAL between each position and the given LSN (negative: the slot is past it). */
  restartBehind: number;
  confirmedBehind: number;
}

let admin: Sql;
let scratch: Sql;

async function slotsBehind(lsn: string): Promise<SlotPosition[]> {
  return admin<SlotPosition[]>`
    select slot_name,
           pg_wal_lsn_diff(${lsn}::pg_lsn, restart_lsn)::float8 as restart_behind,
           pg_wal_lsn_diff(${lsn}::pg_lsn, confirmed_flush_lsn)::float8 as confirmed_behind
      from pg_replication_slots where slot_name like 'outbox\\_%' order by slot_name`;
}

beforeAll(async () => {
  admin = connectAsSuperuser('postgres', 2);
  await admin.unsafe(`drop database if exists ${scratchDatabase} with (force)`);
  await admin.unsafe(`create database ${scratchDatabase}`);
  scratch = connectAsSuperuser(scratchDatabase, 2);
  await scratch`create table filler (id bigserial primary key, body text not null)`;
});

afterAll(async () => {
  await scratch?.end();
  await admin?.unsafe(`drop database if exists ${scratchDatabase} with (force)`);
  await admin?.end();
});

describe('replication slots', () => {
  it(
    'of idle outbox databases advance past WAL that another database wrote',
    async () => {
      // Each connector task restarts from its stored offset first. That is the case that once
      // stuck (the heartbeat was a logical message then): a connector resumed with nothing new
      // in its database never confirmed again.
      for (const database of outboxDatabases) {
        const restart = await fetch(`${endpoints.connectUrl}/connectors/${database}-outbox/restart?includeTasks=true`, { method: 'POST' });
        expect(restart.ok).toBe(true);
      }
      const [{ lsn: before }] = await admin<[{ lsn: string }]>`select pg_current_wal_lsn()::text as lsn`;
      // No service is used meanwhile (integration files run one at a time), so the outbox
      // databases are idle: only this scratch database writes.
      const stopAt = Date.now() + WRITE_FOR_MS;
      while (Date.now() < stopAt) {
        // About 3 MiB of WAL a second: enough to see, little enough that decoding it (each
        // slot's walsender reads all of the server's WAL) does not swamp two cores.
        await scratch`insert into filler (body) select repeat(md5(g::text), 8) from generate_series(1, 5000) g`;
        await scratch`delete from filler`;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const [{ lsn: after, written }] = await admin<[{ lsn: string; written: number }]>`
        select pg_current_wal_lsn()::text as lsn, pg_wal_lsn_diff(pg_current_wal_lsn(), ${before}::pg_lsn)::float8 as written`;
      expect(written).toBeGreaterThan(50 * 1024 * 1024);

      // Within a few heartbeat intervals (10 s each, with slack for a busy machine), every slot
      // has confirmed everything up to the end of the writes and released the WAL before them.
      const waitedFrom = Date.now();
      const deadline = waitedFrom + 120_000;
      let slots = await slotsBehind(after);
      while (slots.some((slot) => slot.confirmedBehind > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        slots = await slotsBehind(after);
      }
      // The figures docs/operations.md quotes.
      console.info(
        `slots: ${(written / 1024 / 1024).toFixed(0)} MiB written elsewhere in ${WRITE_FOR_MS / 1000} s; confirmed ${((Date.now() - waitedFrom) / 1000).toFixed(0)} s later;`,
        slots.map((slot) => `${slot.slotName} restart_lsn ${(slot.restartBehind / 1024).toFixed(0)} kB before the end`).join(', '),
      );
      expect(slots.map((slot) => slot.slotName)).toEqual(outboxDatabases.map((db) => `outbox_${db}`).sort());
      for (const slot of slots) {
        expect({ slot: slot.slotName, confirmedPastTheWrites: slot.confirmedBehind <= 0 }).toEqual({
          slot: slot.slotName,
          confirmedPastTheWrites: true,
        });
        // restart_lsn (what the slot makes PostgreSQL keep) is past the start of the writes:
        // the written WAL is not pinned.
        expect({ slot: slot.slotName, retainsTheWrites: slot.restartBehind > written }).toEqual({
          slot: slot.slotName,
          retainsTheWrites: false,
        });
      }
    },
    WRITE_FOR_MS + 180_000,
  );
});
