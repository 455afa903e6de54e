#!/usr/bin/env node
// Runs the prebuilt CLI bundle (dist/cli, built by `npm ci` / `npm run build`).
// The AWS SDK's notice that its 2027 releases need Node 22 is for developers, not CLI users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
try {
  await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
  process.stderr.write('elbscope: the CLI is not built: run `npm run build` in the elbscope folder (npm ci does it)\n');
  process.exitCode = 2;
}
