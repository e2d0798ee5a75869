// The bench tells PostgreSQL's CPU by kind of process: the kinds must add up to the component's
// total when backends end within the window (their life's CPU reappears in the postmaster's).
import { expect, it } from 'vitest';
import { creditKinds } from '../bench/resources.ts';

it('credits a backend that ended only once: what it spent after its last sample goes to the postmaster', () => {
  const ticksByKind = new Map<string, number>();
  // Sample 1: postmaster at 100 ticks (its own and reaped children's), a backend at 50.
  const first = new Map([
    [1, { kind: 'postmaster', ticks: 100 }],
    [2, { kind: 'backends: orders', ticks: 50 }],
  ]);
  // Sample 2: the backend at 80.
  creditKinds(
    ticksByKind,
    first,
    [
      { pid: 1, kind: 'postmaster', ticks: 100 },
      { pid: 2, kind: 'backends: orders', ticks: 80 },
    ],
    'postmaster',
  );
  const second = new Map([
    [1, { kind: 'postmaster', ticks: 100 }],
    [2, { kind: 'backends: orders', ticks: 80 }],
  ]);
  // Sample 3: the backend ended at 85 ticks, reaped: the postmaster's count rose by its 85.
  creditKinds(ticksByKind, second, [{ pid: 1, kind: 'postmaster', ticks: 185 }], 'postmaster');
  // The component's own total moved 150 → 185 over the window.
  expect(ticksByKind.get('backends: orders')).toBe(30);
  expect(ticksByKind.get('postmaster')).toBe(5);
  expect([...ticksByKind.values()].reduce((sum, ticks) => sum + ticks, 0)).toBe(35);
});

it('counts a process first seen in the later sample whole, as started since the earlier one', () => {
  const ticksByKind = new Map<string, number>();
  creditKinds(
    ticksByKind,
    new Map([[1, { kind: 'postmaster', ticks: 10 }]]),
    [
      { pid: 1, kind: 'postmaster', ticks: 10 },
      { pid: 7, kind: 'autovacuum', ticks: 4 },
    ],
    'postmaster',
  );
  expect(Object.fromEntries(ticksByKind)).toEqual({ postmaster: 0, autovacuum: 4 });
});
