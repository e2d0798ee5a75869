import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../config.ts';

/** The development stack's credentials: public, in the repository, fine on a developer's machine only. */
export const developmentCredentialsFile = new URL('../../../stack/config/credentials.env', import.meta.url);

/** `NAME=value` lines of an env file; comments and blank lines skipped. */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!.trim());
  }
  return values;
}

/**
 * Refuses to run anywhere but in development (SHOP_ENV=development, which the development
 * stacks set) with a secret whose value is the repository's development default: every
 * `*_PASSWORD` variable is compared with stack/config/credentials.env. A deployment that
 * forgot to set one of them would otherwise run with a password anyone can read on GitHub.
 */
export function refuseDevelopmentSecrets(env: NodeJS.ProcessEnv, defaults: Map<string, string>): void {
  if (env['SHOP_ENV'] === 'development') return;
  const leaked = [...defaults].filter(([name, value]) => name.endsWith('_PASSWORD') && env[name] === value).map(([name]) => name);
  if (leaked.length > 0) {
    throw new ConfigurationError(
      `${leaked.join(', ')} ${leaked.length === 1 ? 'has its' : 'have their'} development default from stack/config/credentials.env; ` +
        'set real secrets, or SHOP_ENV=development on a developer machine',
    );
  }
}

export function readDevelopmentCredentials(): Map<string, string> {
  return parseEnvFile(readFileSync(developmentCredentialsFile, 'utf8'));
}
