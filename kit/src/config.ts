/** Reads a required environment variable, failing with the variable's name when it is missing. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`configuration: environment variable ${name} is required but not set`);
  }
  return value;
}
