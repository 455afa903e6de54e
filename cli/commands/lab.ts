import { fileURLToPath } from 'node:url';
import { summaryOf } from './catalog';
import { Command, InvalidArgumentError } from 'commander';
import { Lab, type LabEndpoints } from '../../lab/lab';
import { labOptionsOf, loadScenario, runScenario, type Scenario } from '../../lab/scenario';
import { EXIT, type CliIo } from '../io';
import type { Clock } from '../../shared/clock';

/** The built-in scenarios (`lab/scenarios/<name>.json`), by name. */
export const BUILT_IN_SCENARIOS = ['default', 'nlb', 'traffic-scaling'] as const;

/** A built-in scenario's file. */
export function builtInScenario(name: (typeof BUILT_IN_SCENARIOS)[number]): string {
  return fileURLToPath(new URL(`../../lab/scenarios/${name}.json`, import.meta.url));
}

/** The scenario `npm start` and `elbscope lab` run unless told otherwise. */
export const DEFAULT_SCENARIO = builtInScenario('default');

/** `--scenario`: a built-in scenario's name (`nlb`), or a scenario file. */
export function scenarioArg(value: string): string {
  return (BUILT_IN_SCENARIOS as readonly string[]).includes(value)
    ? builtInScenario(value as (typeof BUILT_IN_SCENARIOS)[number])
    : value;
}

/** The `--scenario` option of `start` and `lab`. */
export const SCENARIO_OPTION = [
  '--scenario <name|file>',
  `a built-in scenario (${BUILT_IN_SCENARIOS.join(', ')}) or a scenario file (JSON)`,
] as const;

export function speedArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 100)
    throw new InvalidArgumentError(`"${value}" is not a speed from 0.1 to 100`);
  return n;
}

/** Where the lab's parts listen, for a person pointing other tools at it. */
export function describeLab(lab: Lab, endpoints: LabEndpoints): string[] {
  return [
    `load balancer  ${lab.elb.dnsName}`,
    `DNS server     ${endpoints.dnsServer}    (dig @${endpoints.dnsServer.replace(/:(\d+)$/, ' -p $1')} ${lab.elb.dnsName})`,
    `EC2 endpoint   ${endpoints.ec2Url}    (AWS_ENDPOINT_URL_EC2)`,
    `CloudWatch     ${endpoints.cloudwatchUrl}    (AWS_ENDPOINT_URL_CLOUDWATCH)`,
    `ELB API        ${endpoints.elbUrl}    (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING, _V2)`,
    ...lab.listeners.map(
      (l) =>
        `listener ${l.name.padEnd(5)} port ${l.port} on every node IP -> ${l.backends.map((b) => b.name).join(', ')}`,
    ),
    ...lab.backends.map(
      (b) =>
        `backend ${b.options.name}     status http://127.0.0.1:${b.statusPort}/server-status   traffic ${b.options.tls ? 'https' : 'http'}://127.0.0.1:${b.trafficPort}/`,
    ),
  ];
}

/** Start a lab for a scenario; the caller stops it. */
export async function startLab(
  scenario: Scenario,
  speed: number,
  clock?: Clock,
): Promise<{ lab: Lab; endpoints: LabEndpoints }> {
  const lab = new Lab({ ...labOptionsOf(scenario, speed), ...(clock ? { clock } : {}) });
  const endpoints = await lab.start();
  return { lab, endpoints };
}

/** `elbscope lab`: the simulated load balancer alone, for pointing other tools (or elbscope) at it. */
export function labCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('lab')
    .description(summaryOf('lab'))
    .option(...SCENARIO_OPTION, scenarioArg, DEFAULT_SCENARIO)
    .option('--speed <n>', 'run the scenario this many times faster', speedArg, 1)
    .action(async (flags: { scenario: string; speed: number }) => {
      const scenario = loadScenario(flags.scenario);
      const { lab, endpoints } = await startLab(scenario, flags.speed);
      try {
        io.out(describeLab(lab, endpoints).join('\n'));
        io.out(
          `scenario ${scenario.name}: ${scenario.steps.length} steps over ${scenario.duration / flags.speed / 1000}s; Ctrl-C stops`,
        );
        await runScenario(
          lab,
          scenario,
          flags.speed,
          {
            log: io.out,
            prewarm: async (t) =>
              io.out(
                `  (record it: elbscope prewarm --lb ${scenario.loadBalancer.name}${t.nodesPerAz > 0 ? ` --nodes-per-az ${t.nodesPerAz}` : ''}${t.lcu ? ` --lcu ${t.lcu}` : ''}${t.total ? ` --total ${t.total}` : ''}${t.deadline ? ` --deadline ${t.deadline}` : ''})`,
              ),
          },
          signal,
        );
        if (!signal.aborted) io.out('scenario over; the lab stays up at rest until Ctrl-C');
        await new Promise<void>((resolve) =>
          signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      } finally {
        await lab.stop();
      }
      setExit(EXIT.ok);
    });
}
