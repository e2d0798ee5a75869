import { Type, type Static, type TObject } from 'typebox';
import { Value } from 'typebox/value';

/** Reads a required environment variable, failing with the variable's name when it is missing. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`configuration: environment variable ${name} is required but not set`);
  }
  return value;
}

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/**
 * Reads the variables a schema names from the environment: defaults filled in, numbers and
 * booleans converted, then checked. Every bad or missing variable is named in one error, so
 * a service that cannot start says exactly why instead of failing later on first use.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // Default and Convert work in place; `raw` keeps the text as given, for the messages.
  const value = Value.Convert(schema, Value.Default(schema, { ...raw }));
  if (Value.Check(schema, value)) return value;

  const problems = new Map<string, string>();
  for (const error of Value.Errors(schema, value)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const name of missing) problems.set(name, `${name} is required but not set`);
      continue;
    }
    const name = error.instancePath.replace(/^\//, '');
    if (problems.has(name)) continue;
    const allowed = (schema.properties[name] as { enum?: unknown[] } | undefined)?.enum;
    const expectation = allowed ? `must be one of ${allowed.join(', ')}` : error.message;
    problems.set(name, `${name} ${expectation} (got ${JSON.stringify(raw[name])})`);
  }
  throw new ConfigurationError(`configuration: ${[...problems.values()].join('; ')}`);
}

/** A TCP port from the environment. */
export const Port = (defaultPort?: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, ...(defaultPort === undefined ? {} : { default: defaultPort }) });
