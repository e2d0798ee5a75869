// The service manifest (services.ts) for shell scripts: one value per line, so that
// stack/bin/native, connect/apply.sh and the PostgreSQL bootstrap loop over the same list.
//
//   manifest.ts services            every service, in start order
//   manifest.ts databases           every service's database
//   manifest.ts outbox-databases    the databases Debezium streams (their service produces events)
//   manifest.ts platform-databases  the databases with the platform tables (their service produces or consumes)
//   manifest.ts port <service>      its HTTP port (<NAME>_PORT, or the default)
//   manifest.ts url <service>       its base URL
import { outboxDatabases, platformDatabases, serviceNamed, services, serviceUrl, type ServiceName } from '../../services.ts';

const [query, argument] = process.argv.slice(2);
const named = (): ServiceName => {
  if (!services.some((service) => service.name === argument)) {
    console.error(`unknown service '${argument ?? ''}' (one of: ${services.map((service) => service.name).join(' ')})`);
    process.exit(2);
  }
  return argument as ServiceName;
};

const answers: Record<string, () => (string | number)[]> = {
  services: () => services.map((service) => service.name),
  databases: () => services.map((service) => service.database),
  'outbox-databases': () => [...outboxDatabases],
  'platform-databases': () => [...platformDatabases],
  port: () => [Number(process.env[serviceNamed(named()).portVariable] ?? serviceNamed(named()).port)],
  url: () => [serviceUrl(named())],
};

const answer = query === undefined ? undefined : answers[query];
if (!answer) {
  console.error(`usage: manifest.ts ${Object.keys(answers).join('|')} [service]`);
  process.exit(2);
}
process.stdout.write(`${answer().join('\n')}\n`);
