/** Environment for a child process of a test: the setup's safety settings plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'CI', 'ELBSCOPE_SEAL_KEY'];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) env[key] = process.env[key];
  return { ...env, ...extra };
}
