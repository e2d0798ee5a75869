import type { TObject } from 'typebox';
import { serviceNamed, type ServiceName } from '../../../services.ts';
import type { HttpApp } from '../http/app.ts';
import type { PublicKeyResolver } from '../http/auth.ts';
import { buildService } from './build.ts';
import { loadServiceDefinition, type ServiceDefinition } from './definition.ts';

const PLACEHOLDER = 'offline-placeholder';

/**
 * The variables a service refuses to start without (its database password, and its own
 * required text variables such as ADMIN_PASSWORD), as placeholders: offline, nothing uses them.
 */
function placeholders(definition: ServiceDefinition<TObject>): NodeJS.ProcessEnv {
  const own = definition.environment;
  const required = (own.required ?? []).filter((name) => {
    const schema = own.properties[name] as { default?: unknown; type?: unknown };
    return schema.default === undefined && schema.type === 'string';
  });
  return Object.fromEntries([serviceNamed(definition.name).databaseVariables.password, ...required].map((name) => [name, PLACEHOLDER]));
}

/**
 * A service's app built offline and ready for `inject()`: routes, validation, authentication
 * and the OpenAPI document, with no database, Kafka or registry touched.
 */
export async function buildOffline(name: ServiceName, options: { resolveKey?: PublicKeyResolver } = {}): Promise<HttpApp> {
  const definition = await loadServiceDefinition(name);
  const app = await buildService(definition, {
    offline: true,
    env: { ...placeholders(definition), ...process.env },
    ...(options.resolveKey ? { resolveKey: options.resolveKey } : {}),
  });
  await app.ready();
  return app;
}
