import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEventSchemas } from '@shop/kit';
import { describeRecord } from './inspect.ts';

// A registry of the test's own: id 7 is product-update as this checkout has it, id 8 a newer
// version with a change kind this checkout does not know, and every other id is unknown (404).
const current = JSON.parse(readEventSchemas().find((source) => source.topic === 'product-update')!.text) as {
  fields: { name: string; type: unknown }[];
};
const newer = {
  ...current,
  fields: current.fields.map((field) =>
    field.name === 'change'
      ? { ...field, type: { type: 'enum', name: 'ProductChange', symbols: ['CREATED', 'UPDATED', 'DELETED', 'STOCK_CHANGED', 'RENAMED'] } }
      : field,
  ),
};
const schemas: Record<string, object> = { '7': current, '8': newer };
let server: Server;
let lookups: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const id = /\/schemas\/ids\/(\d+)/.exec(request.url ?? '')?.[1] ?? '';
    lookups.push(id);
    response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (!schemas[id]) {
      response.statusCode = 404;
      return response.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
    }
    response.end(JSON.stringify({ schema: JSON.stringify(schemas[id]) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env['REGISTRY_URL'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const product = {
  productId: '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705',
  name: 'Mug',
  description: '',
  priceCents: 1299,
  currency: 'EUR',
  stock: 3,
  active: true,
  version: 2,
  updatedAt: 1_795_287_059_790,
  before: null,
  createdAt: 1_795_287_001_250,
};

function framed(schemaId: number, schema: object, value: object): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avro.Type.forSchema(schema as avro.Schema).toBuffer(value)]);
}

const record = (value: Buffer) =>
  describeRecord('product-update', 0, { offset: '0', timestamp: '0', key: null, value, headers: {} } as never);

it("shows a record of a newer schema as it was written, where this checkout's schema cannot read it", async () => {
  expect((await record(framed(7, current, { ...product, change: 'UPDATED' }))).value).toMatchObject({ change: 'UPDATED' });
  expect((await record(framed(8, newer, { ...product, change: 'RENAMED' }))).value).toMatchObject({ change: 'RENAMED', name: 'Mug' });
});

it('asks the registry once for a schema id it does not know, and shows those records as undecodable', async () => {
  lookups = [];
  const unknown = framed(9, current, { ...product, change: 'UPDATED' });
  expect((await record(unknown)).value).toMatchObject({ undecodable: expect.any(String), base64: unknown.toString('base64') });
  expect((await record(unknown)).value).toMatchObject({ undecodable: expect.any(String) });
  expect(lookups.filter((id) => id === '9')).toHaveLength(1);
});

it('shows a body that is no Avro of its schema as undecodable, and still decodes the next record of that schema', async () => {
  const broken = Buffer.concat([framed(7, current, { ...product, change: 'UPDATED' }).subarray(0, 5), Buffer.from([0xff, 0xff, 0xff])]);
  expect((await record(broken)).value).toMatchObject({ undecodable: expect.any(String) });
  expect((await record(framed(7, current, { ...product, change: 'DELETED' }))).value).toMatchObject({ change: 'DELETED' });
});
