// Serverless variable source: reserved concurrency per function, so a runaway
// (a retry storm, a schedule misconfigured to every second) cannot run many
// copies that cost money and hammer the EC2 API. The scheduled functions need one
// copy at a time; a report two. Workers are capped by their SQS event source instead (workerMaximumConcurrency).
// `--param="reservedConcurrency=off"` reserves nothing: accounts whose concurrency
// limit is still the new-account 10 cannot reserve any (AWS keeps 10 unreserved).
const LIMITS = { observe: 1, 'tls-probe': 1, dispatch: 1, report: 2 };

const reserved =
  (fn) =>
  async ({ resolveVariable }) => {
    const mode = String(await resolveVariable('param:reservedConcurrency'));
    if (mode === 'off') return null;
    if (mode !== 'on') throw new Error(`elbscope: reservedConcurrency: "${mode}" is not on or off`);
    return LIMITS[fn];
  };

module.exports.observe = reserved('observe');
module.exports.tlsProbe = reserved('tls-probe');
module.exports.dispatch = reserved('dispatch');
/**
 * The worker's SQS event source cap (ScalingConfig.MaximumConcurrency, 2-1000): the documented way to bound an
 * SQS-driven function, in place of reserved concurrency, which the event source does not account for.
 */
module.exports.workerMaximumConcurrency = async ({ resolveVariable }) => {
  const n = Number(await resolveVariable('param:workerConcurrency'));
  if (!Number.isInteger(n) || n < 2 || n > 1000)
    throw new Error(`elbscope: workerConcurrency: "${n}" is not a whole number from 2 to 1000 (MaximumConcurrency)`);
  return n;
};
module.exports.report = reserved('report');
