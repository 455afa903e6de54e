// The metric names of shared/cycle/metrics.ts, for the deploy-time variable
// sources (dashboard, alarms): one definition, read through tsx as deploy/config.cjs reads the schema.
const tsx = require('tsx/cjs/api');

const { METRIC, METRIC_NAMESPACE, OBSERVATION_SOURCES } = tsx.require('../shared/cycle/metrics.ts', __filename);

module.exports = { METRIC, METRIC_NAMESPACE, OBSERVATION_SOURCES };
