// The OpenAPI documents in docs/openapi/ against what each service's code describes, built
// offline: a route or schema changed without `make openapi` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { services } from '@shop/kit';
import { openApiDocument, openApiFile, renderOpenApi } from '../../tools/src/export-openapi.ts';
import { documentedOperations, type JsonSchema } from '../harness/openapi.ts';

/** RFC 9457's shape, as the kit's Problem schema has it. */
const isProblem = (schema: JsonSchema | undefined) =>
  ['type', 'status', 'title', 'detail', 'code'].every((name) => schema?.required?.includes(name));

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

  it.each(documentedOperations().filter(({ operation }) => (operation.parameters ?? []).length > 0 || operation.requestBody))(
    '$service $method $path, which takes parameters or a body, documents the 400 that validation answers',
    ({ operation }) => {
      expect(Object.keys(operation.responses ?? {})).toContain('400');
    },
  );

  it('files every problem under application/problem+json, the type it is sent as, and no defaulted parameter as required', () => {
    const misfiled = documentedOperations().flatMap(({ service, method, path, operation }) => [
      ...Object.entries(operation.responses ?? {})
        .map(
          ([status, response]) =>
            [status, Object.entries((response as { content?: Record<string, { schema?: JsonSchema }> }).content ?? {})] as const,
        )
        .filter(([, content]) => content.some(([type, { schema }]) => type !== 'application/problem+json' && isProblem(schema)))
        .map(([status]) => `${service} ${method} ${path} ${status}`),
      ...(operation.parameters ?? [])
        .filter((parameter) => parameter.required && parameter.schema?.default !== undefined)
        .map((parameter) => `${service} ${method} ${path} ?${parameter.name}`),
    ]);
    expect(misfiled).toEqual([]);
  });
});
