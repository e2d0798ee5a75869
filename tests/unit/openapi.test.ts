// The OpenAPI documents in docs/openapi/ against what each service's code describes, built
// offline: a route or schema changed without `make openapi` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { services } from '@shop/kit';
import { openApiDocument, openApiFile, renderOpenApi } from '../../tools/src/export-openapi.ts';
import { documentedOperations } from '../harness/openapi.ts';

describe('OpenAPI documents', () => {
  it.each(services.map((service) => service.name))(
    'docs/openapi/%s.json is what the service describes (run `make openapi`)',
    async (name) => {
      expect(renderOpenApi(await openApiDocument(name)), `docs/openapi/${name}.json is stale: run \`make openapi\``).toBe(
        readFileSync(openApiFile(name), 'utf8'),
      );
    },
  );

  it.each(documentedOperations().filter((op) => op.auth !== 'none'))(
    '$service $method $path, behind a bearer token, documents what the token check answers (401, and 403 for a disabled account)',
    ({ operation }) => {
      expect(['401', '403'].filter((status) => status in (operation.responses ?? {}))).toEqual(['401', '403']);
    },
  );
});
