import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import {
  EventConsumer,
  type BatchFinisher,
  type BatchLocker,
  type ConsumerSettings,
  type EventFilter,
  type EventHandlers,
} from './consumer.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's consumer group member, when it consumes events. */
    consumer: EventConsumer;
  }
}

export interface ConsumerPluginOptions {
  group: string;
  handlers: EventHandlers;
  lockBatch?: BatchLocker | undefined;
  finishBatch?: BatchFinisher | undefined;
  filter?: EventFilter | undefined;
  keysInParallel?: number | undefined;
  gatherSharedKeys?: boolean | undefined;
  settings: ConsumerSettings;
  metrics: Registry;
}

/**
 * The consumer as `app.consumer`: it joins its group once the server listens (a service is
 * only worth consuming for once it can also answer), retrying while Kafka cannot be reached,
 * and leaves it, committing offsets, when the app closes; the database and events plugins,
 * registered before, close after it.
 */
export const consumer = fp<ConsumerPluginOptions>(
  async (app, options) => {
    const member = new EventConsumer({ ...options, kafka: app.kafka, codec: app.codec, sql: app.sql, logger: app.log });
    app.decorate('consumer', member);
    app.addHook('onListen', async () => {
      void member.keepStarting();
    });
    app.addHook('onClose', async () => {
      await member.stop();
    });
  },
  { name: 'consumer', dependencies: ['database', 'events'] },
);
