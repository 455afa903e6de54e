// Serverless variable source: reserved concurrency per function, so a runaway
// (a retry storm, a schedule misconfigured to every second) cannot run many
// copies that cost money and hammer the EC2 API. The scheduled functions need one
// copy at a time; workers as many as `workerConcurrency`; a report two.
// `--param="reservedConcurrency=off"` reserves nothing: accounts whose concurrency
// limit is still the new-account 10 cannot reserve any (AWS keeps 10 unreserved).
const LIMITS = { observe: 1, 'tls-probe': 1, dispatch: 1, report: 2 };

const reserved =
  (fn) =>
  async ({ resolveVariable }) => {
    const mode = String(await resolveVariable('param:reservedConcurrency'));
    if (mode === 'off') return null;
    if (mode !== 'on') throw new Error(`elbscope: reservedConcurrency: "${mode}" is not on or off`);
    if (fn !== 'worker') return LIMITS[fn];
    const n = Number(await resolveVariable('param:workerConcurrency'));
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new Error(`elbscope: workerConcurrency: "${n}" is not a whole number from 1 to 1000`);
    return n;
  };

module.exports.observe = reserved('observe');
module.exports.tlsProbe = reserved('tls-probe');
module.exports.dispatch = reserved('dispatch');
module.exports.worker = reserved('worker');
module.exports.report = reserved('report');
