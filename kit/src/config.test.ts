import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { loadConfig, Port, requireEnv } from './config.ts';
import { loadServiceConfig } from './service/config.ts';
import { serviceNamed } from '../../services.ts';

describe('requireEnv', () => {
  it('returns the value of a set variable', () => {
    expect(requireEnv('PG_HOST', { PG_HOST: '127.0.0.1' })).toBe('127.0.0.1');
  });

  it('names the variable when it is missing or empty', () => {
    expect(() => requireEnv('PG_PORT', {})).toThrow('environment variable PG_PORT is required');
    expect(() => requireEnv('PG_PORT', { PG_PORT: '' })).toThrow('PG_PORT');
  });
});

describe('loadConfig', () => {
  const schema = Type.Object({
    PORT: Port(3001),
    SECRET: Type.String({ minLength: 1 }),
    LEVEL: Type.Enum(['info', 'debug'], { default: 'info' }),
    RETRIES: Type.Integer({ minimum: 1, default: 5 }),
  });

  it('fills defaults and converts numbers', () => {
    expect(loadConfig(schema, { SECRET: 's', RETRIES: '7' })).toEqual({ PORT: 3001, SECRET: 's', LEVEL: 'info', RETRIES: 7 });
  });

  it('names every bad or missing variable and what was wrong with it', () => {
    const load = () => loadConfig(schema, { PORT: 'eighty', LEVEL: 'loud', RETRIES: '0' });
    expect(load).toThrow(/SECRET is required but not set/);
    expect(load).toThrow(/PORT must be integer \(got "eighty"\)/);
    expect(load).toThrow(/LEVEL must be one of info, debug \(got "loud"\)/);
    expect(load).toThrow(/RETRIES must be >= 1 \(got "0"\)/);
  });

  it('ignores variables the schema does not name', () => {
    expect(loadConfig(schema, { SECRET: 's', UNRELATED: 'x' })).not.toHaveProperty('UNRELATED');
  });
});

describe('loadServiceConfig', () => {
  const service = serviceNamed('user-svc');

  it('reads the service port and database credentials by the service database name', () => {
    const config = loadServiceConfig(service, { USERS_DB_PASSWORD: 'pw', KAFKA_BROKERS: 'a:1, b:2', USER_SVC_PORT: '4001' });
    expect(config.http.port).toBe(4001);
    expect(config.database).toMatchObject({ database: 'users', username: 'users', password: 'pw', port: 5433 });
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(config.userServiceUrl).toBe('http://127.0.0.1:4001');
  });

  it('refuses to start without the database password, naming it', () => {
    expect(() => loadServiceConfig(service, {})).toThrow(/USERS_DB_PASSWORD is required/);
  });

  it('refuses a registry URL that is not a URL', () => {
    expect(() => loadServiceConfig(service, { USERS_DB_PASSWORD: 'pw', REGISTRY_URL: 'registry' })).toThrow(/REGISTRY_URL/);
  });
});
