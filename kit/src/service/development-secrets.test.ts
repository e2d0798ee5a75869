import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../config.ts';
import { parseEnvFile, readDevelopmentCredentials, refuseDevelopmentSecrets } from './development-secrets.ts';

const defaults = parseEnvFile('# dev\nUSERS_DB_PASSWORD=users-dev\nADMIN_USERNAME=admin\nADMIN_PASSWORD=admin-dev-password\n');

describe('refusing development secrets', () => {
  it('reads the development credentials of the repository', () => {
    expect(readDevelopmentCredentials().get('ADMIN_PASSWORD')).toBeTruthy();
  });

  it('lets a development stack use them', () => {
    expect(() => refuseDevelopmentSecrets({ SHOP_ENV: 'development', USERS_DB_PASSWORD: 'users-dev' }, defaults)).not.toThrow();
  });

  it('refuses them anywhere else, naming each password that has its default', () => {
    const env = { USERS_DB_PASSWORD: 'users-dev', ADMIN_PASSWORD: 'admin-dev-password', ADMIN_USERNAME: 'admin' };
    expect(() => refuseDevelopmentSecrets(env, defaults)).toThrow(ConfigurationError);
    expect(() => refuseDevelopmentSecrets({ ...env, SHOP_ENV: 'production' }, defaults)).toThrow(/USERS_DB_PASSWORD, ADMIN_PASSWORD/);
  });

  it('accepts real secrets, and a default that is not a password', () => {
    expect(() => refuseDevelopmentSecrets({ USERS_DB_PASSWORD: 'x7!long-and-real', ADMIN_USERNAME: 'admin' }, defaults)).not.toThrow();
  });
});
