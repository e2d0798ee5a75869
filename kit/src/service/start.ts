import closeWithGrace from 'close-with-grace';
import type { TObject } from 'typebox';
import { serviceNamed } from '../../../services.ts';
import { ConfigurationError } from '../config.ts';
import { startTracing, type Tracing } from '../tracing/tracing.ts';
import { buildService } from './build.ts';
import { loadServiceConfig } from './config.ts';
import { readDevelopmentCredentials, refuseDevelopmentSecrets } from './development-secrets.ts';
import type { ServiceDefinition } from './definition.ts';

const EX_CONFIG = 78;

/**
 * Runs a service: builds its app (migrating its database), listens on its port, and closes
 * it gracefully on SIGTERM or SIGINT, and after an uncaught exception or unhandled
 * rejection: in-flight requests and the event in hand finish, offsets are committed, the
 * pool ends; past the shutdown timeout the process exits anyway.
 */
export async function startService<Environment extends TObject>(definition: ServiceDefinition<Environment>): Promise<void> {
  let app: Awaited<ReturnType<typeof buildService>>;
  let config: ReturnType<typeof loadServiceConfig>;
  let tracing: Tracing;
  try {
    refuseDevelopmentSecrets(process.env, readDevelopmentCredentials());
    config = loadServiceConfig(serviceNamed(definition.name));
    // Before the app exists, so that its instrumentation sees it created.
    tracing = await startTracing(definition.name, config.tracing);
    app = await buildService(definition);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`${definition.name}: ${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.fatal({ err }, 'closing after an uncaught error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    await tracing.shutdown();
    app.log.info('stopped');
  });
  await app.listen({ host: config.http.host, port: config.http.port });
}
