// The operations the services document in docs/openapi/ (which tests/unit/openapi.test.ts
// keeps equal to what the code serves), read when a test file is collected: each operation can
// then be a test of its own, and a service with no operation of a kind has no such test rather
// than a green one that looped over nothing.
import { readFileSync } from 'node:fs';
import { services, type ServiceName } from '@shop/kit';
import { openApiFile } from '../../tools/src/export-openapi.ts';

export interface JsonSchema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
}

export interface OpenApiOperation {
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}

export interface DocumentedOperation {
  service: ServiceName;
  method: string;
  /** The OpenAPI path, `{id}` placeholders and all. */
  path: string;
  operation: OpenApiOperation;
  /** Needs a bearer token; `admin` when the admin role too. */
  auth: 'none' | 'customer' | 'admin';
}

/** Every documented operation of one service, or of all; HEAD routes (Fastify's copies of the GET routes) left out. */
export function documentedOperations(only?: ServiceName): DocumentedOperation[] {
  return services
    .map((service) => service.name)
    .filter((service) => only === undefined || service === only)
    .flatMap((service) => {
      const document = JSON.parse(readFileSync(openApiFile(service), 'utf8')) as {
        paths: Record<string, Record<string, OpenApiOperation>>;
      };
      return Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([method]) => method !== 'head')
          .map(([method, operation]) => ({ service, method: method.toUpperCase(), path, operation, auth: authOf(operation) })),
      );
    });
}

function authOf(operation: OpenApiOperation): DocumentedOperation['auth'] {
  const requirements = operation.security ?? [];
  if (requirements.some((requirement) => requirement['bearer']?.includes('admin'))) return 'admin';
  return requirements.length > 0 ? 'customer' : 'none';
}
