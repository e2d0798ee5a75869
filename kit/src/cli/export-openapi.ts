// make openapi: fetches the OpenAPI document each running service serves at /docs/json and
// writes it to docs/openapi/<service>.json. The integration test tests/integration/openapi.test.ts
// compares the running services with these files, so a route change without `make openapi`
// fails `make test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface HttpService {
  name: string;
  /** The variable that names the service's base URL, when it is not on 127.0.0.1. */
  urlVariable: string;
  /** The variable that sets its port, and the contract's default. */
  portVariable: string;
  defaultPort: number;
}

// The same variables and defaults as the services' own configuration and tests/harness/stack.ts.
export const httpServices: readonly HttpService[] = [
  { name: 'user-svc', urlVariable: 'USER_SVC_URL', portVariable: 'USER_SVC_PORT', defaultPort: 3001 },
  { name: 'product-svc', urlVariable: 'PRODUCT_SVC_URL', portVariable: 'PRODUCT_SVC_PORT', defaultPort: 3002 },
  { name: 'order-svc', urlVariable: 'ORDER_SVC_URL', portVariable: 'ORDER_SVC_PORT', defaultPort: 3003 },
  { name: 'payment-svc', urlVariable: 'PAYMENT_SVC_URL', portVariable: 'PAYMENT_SVC_PORT', defaultPort: 3004 },
  { name: 'gateway-sim', urlVariable: 'GATEWAY_URL', portVariable: 'GATEWAY_PORT', defaultPort: 3005 },
];

export function serviceUrl(service: HttpService, env: NodeJS.ProcessEnv = process.env): string {
  return env[service.urlVariable] ?? `http://127.0.0.1:${env[service.portVariable] ?? service.defaultPort}`;
}

export const openApiDirectory = fileURLToPath(new URL('../../../docs/openapi', import.meta.url));
export const openApiFile = (serviceName: string) => `${openApiDirectory}/${serviceName}.json`;

export async function fetchOpenApi(baseUrl: string): Promise<unknown> {
  const response = await fetch(`${baseUrl}/docs/json`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${baseUrl}/docs/json answered ${response.status}`);
  return response.json();
}

/** Pretty JSON in the order the service serves it, ending with a newline, so diffs stay small. */
export const renderOpenApi = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(openApiDirectory, { recursive: true });
  for (const service of httpServices) {
    const url = serviceUrl(service);
    let document: unknown;
    try {
      document = await fetchOpenApi(url);
    } catch (error) {
      console.error(`${service.name}: cannot read ${url}/docs/json (${(error as Error).message}); is the stack up (make up, make status)?`);
      process.exit(1);
    }
    writeFileSync(openApiFile(service.name), renderOpenApi(document));
    console.log(`wrote ${openApiFile(service.name)}`);
  }
}
