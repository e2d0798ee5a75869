// Where a topic's partitions stand and how far a consumer group is behind them: read by the
// operator commands (make topics, status, dlq) and by the tests that wait for the consumers.
import type { Admin } from 'kafkajs';

export interface PartitionOffsets {
  partition: number;
  /** The oldest offset still held. */
  low: bigint;
  /** The next offset to be written (the end). */
  high: bigint;
}

export async function partitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));
}

/** The records of `topics` a consumer group has yet to commit (all that are held, where it has committed nothing). */
export async function groupLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<bigint> {
  if (topics.length === 0) return 0n;
  const committedByTopic = await admin.fetchOffsets({ groupId, topics: [...topics] });
  let lag = 0n;
  for (const topic of topics) {
    const committed = committedByTopic.find((c) => c.topic === topic);
    for (const end of await partitionOffsets(admin, topic)) {
      const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      lag += end.high - (offset === '-1' ? end.low : BigInt(offset));
    }
  }
  return lag;
}
