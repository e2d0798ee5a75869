import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchFrom } from './http.ts';

describe('fetchFrom', () => {
  it('names the component and its address when nothing answers there', async () => {
    // A port that was just free: nothing listens on it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    await expect(fetchFrom('user-svc', `http://127.0.0.1:${port}/auth/login`)).rejects.toThrow(
      `user-svc at http://127.0.0.1:${port} does not answer (connect ECONNREFUSED 127.0.0.1:${port}); is the stack up? make status`,
    );
  });
});
