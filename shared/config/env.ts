import { ConfigError } from '../errors';

/** A required environment variable (set by serverless.yml), or a ConfigError naming it. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '')
    throw new ConfigError(`${name} is not set (serverless.yml sets it on deploy)`);
  return value;
}
