import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { z } from 'zod/mini';
import { ConfigError } from '../errors';
import { configSchema, type Config } from './schema';

/** Where configuration was read from, for error messages. */
export type ConfigOrigin = string;

/**
 * Validate a parsed configuration value. Throws ConfigError with one line that
 * names the origin, the first offending key path and what is wrong with it.
 */
export function parseConfig(value: unknown, origin: ConfigOrigin): Config {
  const result = configSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(`${origin}: ${formatIssues(result.error.issues)}`);
}

/** One line for a list of zod issues: the first in full, then how many more. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const [first] = issues;
  if (!first) return 'invalid';
  const path = first.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  let message = first.message;
  if (first.code === 'unrecognized_keys')
    message = `unknown key(s) ${first.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${path === '' ? '' : `${path}: `}${message}${more}`;
}

/** A configuration file is JSON of a few kilobytes; anything over this is not one. */
const MAX_CONFIG_BYTES = 1_048_576;

/**
 * Read and validate a JSON configuration file. Only a regular file up to 1 MiB is
 * read: `/dev/zero` would grow without end, a FIFO or `/dev/urandom` would block.
 */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    const kind = statSync(path);
    if (!kind.isFile()) throw new ConfigError(`config ${path}: not a regular file`);
    if (kind.size > MAX_CONFIG_BYTES)
      throw new ConfigError(`config ${path}: larger than 1 MiB (${kind.size} bytes): not an elbscope configuration`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: string }).code;
    throw new ConfigError(`config ${path}: cannot read (${code ?? String(err)})`);
  }
  return parseConfig(parseJson(text, `config ${path}`), `config ${path}`);
}

/**
 * Configuration from the environment: `ELBSCOPE_CONFIG` holds the JSON itself
 * (how the Lambda functions get it while it fits their environment),
 * `ELBSCOPE_CONFIG_FILE` a path to it (a larger one is packaged as a file in the
 * function's code: a relative path is read from the code's directory,
 * LAMBDA_TASK_ROOT, where there is one).
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv): Config {
  const inline = env.ELBSCOPE_CONFIG;
  if (inline !== undefined && inline.trim() !== '') {
    return parseConfig(parseJson(inline, 'ELBSCOPE_CONFIG'), 'ELBSCOPE_CONFIG');
  }
  const file = env.ELBSCOPE_CONFIG_FILE;
  const root = env.LAMBDA_TASK_ROOT;
  if (file !== undefined && file.trim() !== '')
    return loadConfigFile(root && !isAbsolute(file) ? join(root, file) : file);
  throw new ConfigError('no configuration: set ELBSCOPE_CONFIG (JSON) or ELBSCOPE_CONFIG_FILE (path)');
}

function parseJson(text: string, origin: string): unknown {
  if (text.trim() === '') throw new ConfigError(`${origin}: empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${origin}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}
