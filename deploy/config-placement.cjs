// Serverless plugin: where the functions' configuration goes. In the environment
// (ELBSCOPE_CONFIG) while it fits Lambda's limit on all the variables together;
// else as a file inside every function's package (ELBSCOPE_CONFIG_FILE names it),
// chosen at package time. Either way the functions validate it with the same schema
// (shared/config/load.ts). Then the environment each function would get is measured
// again, and `serverless package` refuses one AWS would refuse, saying why.
//
// A file rather than an SSM parameter: a standard parameter holds 4 KB as well
// ("Standard tier parameters support a maximum parameter value of 4096 characters"),
// an advanced one 8 KB at a charge, and a parameter would add a call, a permission
// and a failure to every cold start; the file is deployed with the code it belongs to.
//
// Listed before serverless-esbuild in serverless.yml: its hook runs first, so the
// file is among the patterns esbuild's packaging copies into each function's zip.
const { rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

// Lambda quotas: "The total size of all environment variables doesn't exceed 4 KB."
// Counted the stricter way AWS might: the JSON of the whole map (names, values,
// quotes, separators), against 4,000 bytes rather than 4,096.
const ENVIRONMENT_LIMIT_BYTES = 4000;
// A value CloudFormation fills in at deploy (`!Ref StateTable`, the topic, the queue)
// counts as this many bytes: more than any of them resolves to (a DynamoDB table name
// is at most 255 characters, an SNS topic ARN at most ~330, an SQS queue URL ~150).
const REFERENCE_BYTES = 512;
// The file, at the root of each function's package (and, only while packaging, of the service).
const PACKAGED_FILE = 'elbscope.config.packaged.json';

/** A function's environment as Lambda would measure it (CloudFormation references at their longest). */
function environmentBytes(variables) {
  const measured = Object.fromEntries(
    Object.entries(variables ?? {}).map(([name, value]) => [
      name,
      typeof value === 'string'
        ? value
        : typeof value === 'object' && value !== null
          ? 'x'.repeat(REFERENCE_BYTES)
          : String(value),
    ]),
  );
  return Buffer.byteLength(JSON.stringify(measured));
}

class ConfigPlacement {
  constructor(serverless) {
    this.serverless = serverless;
    this.written = null;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.place(),
      'before:deploy:function:packageFunction': () => this.place(),
      'after:package:createDeploymentArtifacts': () => this.removeFile(),
      'after:deploy:function:packageFunction': () => this.removeFile(),
      'before:package:finalize': () => this.checkEnvironments(),
    };
  }

  /** Each function's environment as it will be compiled: the provider's, then its own. */
  environments() {
    const { service } = this.serverless;
    return Object.entries(service.functions ?? {}).map(([name, fn]) => [
      name,
      { ...(service.provider.environment ?? {}), ...(fn.environment ?? {}) },
    ]);
  }

  /** Move the configuration into the package when some function's environment would be over the limit with it. */
  place() {
    const { service } = this.serverless;
    const environment = service.provider.environment ?? {};
    const inline = environment.ELBSCOPE_CONFIG;
    if (typeof inline !== 'string' || inline === '') return;
    const over = this.environments().filter(([, vars]) => environmentBytes(vars) > ENVIRONMENT_LIMIT_BYTES);
    if (over.length === 0) return;
    const dir = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const { packagedConfigText } = require('./config.cjs');
    const text = packagedConfigText();
    writeFileSync(path.join(dir, PACKAGED_FILE), text);
    this.written = path.join(dir, PACKAGED_FILE);
    delete environment.ELBSCOPE_CONFIG;
    environment.ELBSCOPE_CONFIG_FILE = PACKAGED_FILE;
    service.package = { ...(service.package ?? {}), patterns: [...(service.package?.patterns ?? []), PACKAGED_FILE] };
    const bytes = environmentBytes(over[0][1]);
    this.serverless.cli.log(
      `elbscope: the configuration (${Buffer.byteLength(inline)} bytes) would make the environment of ${over.map(([n]) => n).join(', ')} ${bytes} bytes, ` +
        `over Lambda's 4 KB for all variables: packaged as ${PACKAGED_FILE} in each function (${Buffer.byteLength(text)} bytes), ELBSCOPE_CONFIG_FILE names it`,
    );
  }

  removeFile() {
    if (this.written) rmSync(this.written, { force: true });
    this.written = null;
  }

  /** Refuse what AWS would refuse: a function whose environment is over Lambda's limit all the same. */
  checkEnvironments() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate?.Resources ?? {};
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const bytes = environmentBytes(resource.Properties?.Environment?.Variables);
      if (bytes > ENVIRONMENT_LIMIT_BYTES) {
        throw new Error(
          `elbscope: ${id}: its environment would be ${bytes} bytes (values CloudFormation fills in counted as ${REFERENCE_BYTES}), over Lambda's limit ` +
            `("The total size of all environment variables doesn't exceed 4 KB", Lambda quotas; counted here against ${ENVIRONMENT_LIMIT_BYTES}): ` +
            `AWS would refuse the deploy. The configuration is not in it; shorten the other variables.`,
        );
      }
    }
  }
}

module.exports = ConfigPlacement;
module.exports.environmentBytes = environmentBytes;
module.exports.ENVIRONMENT_LIMIT_BYTES = ENVIRONMENT_LIMIT_BYTES;
module.exports.PACKAGED_FILE = PACKAGED_FILE;
