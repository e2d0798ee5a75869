// The OpenAPI documents in docs/openapi/ against what each service's code describes, built
// offline: a route or schema changed without `make openapi` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { services } from '@shop/kit';
import { openApiDocument, openApiFile, renderOpenApi } from '../../tools/src/export-openapi.ts';

describe('OpenAPI documents', () => {
  it.each(services.map((service) => service.name))(
    'docs/openapi/%s.json is what the service describes (run `make openapi`)',
    async (name) => {
      expect(renderOpenApi(await openApiDocument(name)), `docs/openapi/${name}.json is stale: run \`make openapi\``).toBe(
        readFileSync(openApiFile(name), 'utf8'),
      );
    },
  );
});
