import fp from 'fastify-plugin';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '../kafka/client.ts';
import { EventCodec } from './codec.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Avro through the registry: what the outbox writer encodes and the consumer decodes with. */
    codec: EventCodec;
    /** The Kafka client the consumer is made from, and an admin client for readiness. */
    kafka: Kafka;
    kafkaAdmin: Admin;
  }
}

export interface EventsPluginOptions {
  registryUrl: string;
  brokers: string[];
  clientId: string;
}

/** The codec and the Kafka clients as decorators; the admin connection closes with the app. */
export const events = fp<EventsPluginOptions>(
  async (app, { registryUrl, brokers, clientId }) => {
    const kafka = createKafka(brokers, clientId, app.log);
    const admin = kafka.admin();
    app.decorate('codec', new EventCodec(registryUrl));
    app.decorate('kafka', kafka);
    app.decorate('kafkaAdmin', admin);
    app.addHook('onClose', async () => {
      await admin.disconnect();
    });
  },
  { name: 'events' },
);
