import { existsSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Command, InvalidArgumentError } from 'commander';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { credentialsFor } from '../../shared/aws/credentials';
import { AWS_DEADLINES, requestHandlerWith } from '../../shared/aws/deadlines';
import { kmsClient } from '../../shared/aws/kms-seal';
import { perRegionAndRole } from '../../shared/aws/per-region';
import { snsClient } from '../../shared/aws/sns';
import { createMetricsLookup } from '../../shared/capacity/cloudwatch';
import { loadConfigFile, loadConfigFromEnv } from '../../shared/config/load';
import type { Config } from '../../shared/config/schema';
import { checkLine } from '../../shared/doctor/check';
import { runDoctor } from '../../shared/doctor/doctor';
import { roleToCheck, type RoleToCheck } from '../../shared/doctor/permissions';
import { UsageError } from '../../shared/errors';
import { awsCycleDeps } from '../../shared/wiring/cycle-deps';
import { EXIT, type CliIo } from '../io';
import { summaryOf } from './catalog';

/** `--role [FUNCTION=]ARN` (repeatable). */
function roleArg(value: string, previous: RoleToCheck[]): RoleToCheck[] {
  const role = roleToCheck(value);
  if (role instanceof Error) throw new InvalidArgumentError(role.message);
  return [...previous, role];
}

/** The configuration the deploy reads: --config, else ELBSCOPE_CONFIG(_FILE), else ./elbscope.config.json. */
function configFor(file: string | undefined, env: NodeJS.ProcessEnv): Config {
  if (file) return loadConfigFile(file);
  if (env.ELBSCOPE_CONFIG?.trim() || env.ELBSCOPE_CONFIG_FILE?.trim()) return loadConfigFromEnv(env);
  if (existsSync('elbscope.config.json')) return loadConfigFile('elbscope.config.json');
  throw new UsageError(
    'doctor: give --config FILE (or set ELBSCOPE_CONFIG_FILE, or run where elbscope.config.json is)',
  );
}

/** Resolves when `signal` is aborted (at once if it is already). */
function aborted(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}

/** `elbscope doctor`: before a deploy, check without side effects what the deployed functions will need. */
export function doctorCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('doctor')
    .description(summaryOf('doctor'))
    .option('--config <file>', 'configuration file (JSON; default: ELBSCOPE_CONFIG_FILE, or ./elbscope.config.json)')
    .option(
      '--role <[function=]arn>',
      "a function's role to simulate (repeatable): a stack role (its name says which function) or FUNCTION=ARN; default: these credentials, as the observe function",
      roleArg,
      [],
    )
    .action(async (flags: { config?: string; role: RoleToCheck[] }) => {
      const config = configFor(flags.config, io.env);
      const defaultRegion = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      const region = defaultRegion ?? 'us-east-1';
      // Every client: elbscope's deadline per attempt (shared/aws/deadlines.ts); two attempts at most, but SNS and KMS,
      // which are asked through the clients the functions use (three).
      const handler = () => requestHandlerWith(AWS_DEADLINES);
      const ec2 = ec2ClientsByRegion(2);
      const run = runDoctor(config, flags.role, {
        sts: new STSClient({ region, maxAttempts: 2, requestHandler: handler() }),
        // IAM is global: its endpoint is the partition's, whatever the region.
        iam: new IAMClient({ region, maxAttempts: 2, requestHandler: handler() }),
        ec2: (r) => ec2(r),
        cycle: awsCycleDeps(config, ec2, defaultRegion),
        metricsFor: perRegionAndRole((r, roleArn) =>
          createMetricsLookup(
            new CloudWatchClient({
              region: r,
              credentials: credentialsFor(roleArn, r),
              maxAttempts: 2,
              requestHandler: handler(),
            }),
            'essential',
          ),
        ),
        sns: (topicArn) => snsClient(topicArn),
        kms: (r) => kmsClient(r),
        defaultRegion,
        now: () => new Date(),
      });
      // Ctrl-C: one line and exit 1 at once, not when the last call's deadline passes (main.ts then exits); no check
      // is printed, as none finished.
      const checks = await Promise.race([run, aborted(signal)]);
      if (checks === 'aborted') {
        io.err('elbscope doctor: interrupted before its checks finished: nothing was checked (run it again)');
        setExit(EXIT.notObserved);
        return;
      }
      for (const check of checks) io.out(checkLine(check));
      const failed = checks.filter((c) => !c.ok).length;
      io.out(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
      setExit(failed === 0 ? EXIT.ok : EXIT.notObserved);
    });
}
