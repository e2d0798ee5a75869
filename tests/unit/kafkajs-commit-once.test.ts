// patches/kafkajs+2.2.4.patch: with an autoCommitInterval, kafkajs commits offsets when a batch
// ends and the interval has passed since the last commit returned. A fetch hands dozens of
// partitions' batches to the workers at once, and each that ended while a commit was under way
// sent the same offsets again. Patched, the commit is one at a time, and what it does not carry
// goes with the next.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface OffsetManager {
  lastCommit: number;
  resolveOffset(offset: { topic: string; partition: number; offset: string }): void;
  commitOffsetsIfNecessary(): Promise<void>;
}
type OffsetManagerClass = new (options: Record<string, unknown>) => OffsetManager;

const require = createRequire(import.meta.url);
const OffsetManagerOf = require('kafkajs/src/consumer/offsetManager') as OffsetManagerClass;

/** An offset manager of partitions 0–2 of one topic whose coordinator answers each commit when told to. */
function manager() {
  const commits: { topics: { partitions: { partition: number; offset: string }[] }[] }[] = [];
  const answers: (() => void)[] = [];
  const committedByTopic: Record<string, Record<number, string>> = { 'order-placed': {} };
  const coordinator = {
    isConnected: () => true,
    offsetCommit: (payload: (typeof commits)[number]) => {
      commits.push(payload);
      return new Promise<void>((resolve) => answers.push(resolve));
    },
  };
  const offsets = new OffsetManagerOf({
    // The cluster holds what each group has committed, per topic and partition.
    cluster: { committedOffsets: () => committedByTopic },
    coordinator,
    memberAssignment: { 'order-placed': [0, 1, 2] },
    autoCommit: true,
    autoCommitInterval: 1_000,
    autoCommitThreshold: null,
    topicConfigurations: {},
    instrumentationEmitter: { emit() {} },
    groupId: 'commit-once',
    generationId: 1,
    memberId: 'member',
  });
  const committed = () =>
    commits.map(({ topics }) => topics.flatMap(({ partitions }) => partitions.map(({ partition, offset }) => `${partition}@${offset}`)));
  return { offsets, commits, committed, answerAll: () => answers.splice(0).forEach((answer) => answer()) };
}

/** Until the commits started so far have reached the coordinator (each first awaits it). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('kafkajs offset commits (patched)', () => {
  it('sends one commit for the batches that end while it is under way, and their offsets with the next', async () => {
    const { offsets, committed, answerAll } = manager();
    offsets.resolveOffset({ topic: 'order-placed', partition: 0, offset: '4' });
    offsets.lastCommit = Date.now() - 2_000;
    const ended = [offsets.commitOffsetsIfNecessary()];
    // Batches of the same fetch ending meanwhile, one of them with a new offset.
    offsets.resolveOffset({ topic: 'order-placed', partition: 1, offset: '9' });
    for (let i = 0; i < 20; i++) ended.push(offsets.commitOffsetsIfNecessary());
    await settled();
    expect(committed()).toEqual([['0@5']]);
    answerAll();
    await Promise.all(ended);

    offsets.lastCommit = Date.now() - 2_000;
    const next = offsets.commitOffsetsIfNecessary();
    await settled();
    expect(committed()).toEqual([['0@5'], ['1@10']]);
    answerAll();
    await next;
  });

  it('commits nothing before the interval has passed', async () => {
    const { offsets, committed } = manager();
    offsets.resolveOffset({ topic: 'order-placed', partition: 2, offset: '1' });
    await offsets.commitOffsetsIfNecessary();
    expect(committed()).toEqual([]);
  });
});
