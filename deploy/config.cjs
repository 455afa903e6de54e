// Serverless variable source: the validated elbscope configuration as one JSON
// string for the functions' ELBSCOPE_CONFIG. Validating here makes a bad config
// fail `serverless package/deploy`, not the first scheduled run. When it would not
// fit Lambda's environment, deploy/config-placement.cjs packages it as a file
// (packagedConfigText) instead.
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');
const tsx = require('tsx/cjs/api');

function loadConfig() {
  const root = path.resolve(__dirname, '..');
  const chosen = process.env.ELBSCOPE_CONFIG_FILE
    ? path.resolve(process.env.ELBSCOPE_CONFIG_FILE)
    : [path.join(root, 'elbscope.config.json'), path.join(root, 'elbscope.config.example.json')].find(existsSync);
  if (chosen.endsWith('.example.json')) {
    process.stderr.write(`elbscope: no elbscope.config.json; packaging with ${path.basename(chosen)}\n`);
  }
  const { loadConfigFile } = tsx.require('../shared/config/load.ts', __filename);
  return { config: loadConfigFile(chosen), file: chosen };
}

let cached;
const loaded = () => (cached ??= loadConfig());
const config = () => loaded().config;

module.exports.configJson = () => JSON.stringify(config());
// Which schedule runs the cycles: one function for everything, or the fan-out dispatcher.
module.exports.singleScheduleEnabled = () => !config().fanout.enabled;
module.exports.fanoutScheduleEnabled = () => config().fanout.enabled;

/**
 * The configuration file as packaged: what was written (validated above), without
 * its whitespace. Not the parsed form with every default filled in, which is
 * larger: the functions fill in the same defaults as they validate it again.
 */
module.exports.packagedConfigText = () => JSON.stringify(JSON.parse(readFileSync(loaded().file, 'utf8')));

module.exports.config = config;
