// make openapi: writes docs/openapi/<service>.json, the OpenAPI document of every service of
// the manifest, from its app built offline (no stack needed). tests/unit/openapi.test.ts fails
// while a committed document differs from what the code describes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOffline, services, type ServiceName } from '@shop/kit';

export const openApiDirectory = fileURLToPath(new URL('../../docs/openapi', import.meta.url));
export const openApiFile = (name: ServiceName) => `${openApiDirectory}/${name}.json`;

/** The document a service serves at /docs/json, from its offline build. */
export async function openApiDocument(name: ServiceName): Promise<unknown> {
  const app = await buildOffline(name);
  try {
    return app.swagger();
  } finally {
    await app.close();
  }
}

/** Pretty JSON in the order the service serves it, ending with a newline, so diffs stay small. */
export const renderOpenApi = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(openApiDirectory, { recursive: true });
  for (const { name } of services) {
    writeFileSync(openApiFile(name), renderOpenApi(await openApiDocument(name)));
    console.log(`wrote ${openApiFile(name)}`);
  }
}
