import fp from 'fastify-plugin';
import { connectDatabase, type DatabaseSettings, type Sql } from './connect.ts';
import { migrate, migratePlatform } from './migrate.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's own database. */
    sql: Sql;
  }
}

export interface DatabasePluginOptions {
  settings: DatabaseSettings;
  /**
   * Migrations applied when the plugin loads: the platform's (outbox, processed events) when
   * the service produces or consumes events, then the service's own. Left out for an app built offline.
   */
  migrations?: { platform: boolean; folder: string };
}

/** The database pool as `app.sql`: migrated at start when asked, ended when the app closes. */
export const database = fp<DatabasePluginOptions>(
  async (app, { settings, migrations }) => {
    const sql = connectDatabase(settings);
    app.decorate('sql', sql);
    app.addHook('onClose', async () => {
      await sql.end({ timeout: 5 });
    });
    if (migrations) {
      const platform = migrations.platform ? (await migratePlatform(sql)).applied : [];
      const own = await migrate(sql, migrations.folder, 'service_migrations');
      app.log.info({ applied: [...platform, ...own.applied] }, 'database migrated');
    }
  },
  { name: 'database' },
);
