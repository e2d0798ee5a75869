import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { registryClient } from './registry-client.ts';

const schema = JSON.stringify({ type: 'record', name: 'Probe', fields: [{ name: 'n', type: 'int' }] });

describe('registryClient', () => {
  let server: Server | undefined;

  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  /** A registry that answers schema lookups, except the first `unanswered` requests, which it never answers. */
  async function registryThatHangs(unanswered: number): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    server = createServer((_request, response) => {
      requests += 1;
      if (requests <= unanswered) return;
      response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
      response.end(JSON.stringify({ schema }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
  }

  it('gives up on a request the registry never answers and retries it', async () => {
    const registry = await registryThatHangs(2);
    const type = await registryClient(registry.url, 100).getSchema(1);
    expect(type).toBeTruthy();
    expect(registry.requests()).toBe(3);
  });

  it('fails, rather than waits forever, when the registry never answers', async () => {
    const registry = await registryThatHangs(Number.POSITIVE_INFINITY);
    await expect(registryClient(registry.url, 100).getSchema(1)).rejects.toThrow(/Timeout/);
    expect(registry.requests()).toBe(4);
  });
});
