import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';

/**
 * A 256 MB Lambda's share of a CPU: Lambda allocates CPU in proportion to memory, a full
 * vCPU at 1,769 MB (AWS Lambda Developer Guide, "Configure Lambda function memory"), so
 * 256 MB gets 256/1769 of one: about 14.5 ms of CPU per 100 ms.
 */
export const LAMBDA_256_CPU_SHARE = 256 / 1769;

const CGROUP_CPU = '/sys/fs/cgroup/cpu';

/** A command run under a CPU quota, or why it cannot be. */
export type CpuLimit =
  | {
      limited: true;
      describe: string;
      wrap: (command: string, args: string[]) => [string, string[]];
      remove: () => void;
    }
  | { limited: false; describe: string };

/**
 * A cgroup (v1) holding whatever it runs to `share` of one CPU (cpu.cfs_quota_us over a
 * 100 ms cpu.cfs_period_us). Needs root and a writable cgroup v1 cpu controller; otherwise
 * says why not, and the caller states that its figures are not limited.
 */
export function cpuLimit(share: number): CpuLimit {
  const period = 100_000;
  const quota = Math.round(period * share);
  if (process.getuid?.() !== 0) return { limited: false, describe: 'not limited: not root (a cgroup needs it)' };
  if (!existsSync(`${CGROUP_CPU}/cpu.cfs_quota_us`))
    return { limited: false, describe: `not limited: no cgroup v1 cpu controller at ${CGROUP_CPU}` };
  const dir = `${CGROUP_CPU}/elbscope-bench-${process.pid}`;
  try {
    mkdirSync(dir);
    writeFileSync(`${dir}/cpu.cfs_period_us`, String(period));
    writeFileSync(`${dir}/cpu.cfs_quota_us`, String(quota));
  } catch (err) {
    return { limited: false, describe: `not limited: cannot set up ${dir} (${(err as Error).message})` };
  }
  return {
    limited: true,
    describe: `cgroup v1 cpu quota ${quota} µs per ${period} µs (${(share * 100).toFixed(1)}% of one CPU)`,
    // The shell joins the cgroup, then becomes the command: nothing of it runs outside the quota.
    wrap: (command, args) => ['sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh', command, ...args]],
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still busy (a process left behind): the kernel keeps it until that ends; nothing else to do.
      }
    },
  };
}
