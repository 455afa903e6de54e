import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Warnings elbscope's templates carry on purpose, each with why (anything else cfn-lint reports fails the test):
 * - W3005 "dependency already enforced by a GetAtt" on each function's `DependsOn: [<its role>]`: the Serverless
 *   Framework writes that DependsOn itself for a function with a custom `role` (beside `Role: Fn::GetAtt`); it is
 *   redundant, not wrong, and changes nothing CloudFormation does.
 */
const JUSTIFIED: { rule: string; why: RegExp }[] = [
  { rule: 'W3005', why: /^'(Observe|TlsProbe|Dispatch|Worker|Report)Role' dependency already enforced by a 'GetAtt'/ },
];

/** One cfn-lint finding, parsed from its parseable output. */
export interface CfnLintFinding {
  file: string;
  rule: string;
  message: string;
}

/**
 * AWS's CloudFormation linter (`cfn-lint`, preinstalled) over every template in the packaged directories: its
 * findings that are not justified above (errors are never justified).
 */
export async function cfnLintFindings(dirs: string[]): Promise<CfnLintFinding[]> {
  const files = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => /^cloudformation-template-.*\.json$/.test(f))
      .map((f) => join(d, f)),
  );
  if (files.length === 0) throw new Error('cfn-lint: no packaged template to lint');
  const { stdout } = await run('cfn-lint', ['--format', 'parseable', '--', ...files], { timeout: 240_000 }).catch(
    // cfn-lint exits non-zero when it finds anything (2 errors, 4 warnings, 8 informational): its output is the answer.
    (err: { stdout?: string; code?: unknown }) => {
      if (typeof err.code !== 'number' || err.code > 14) throw err;
      return { stdout: err.stdout ?? '' };
    },
  );
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      // file:line:col:endline:endcol:RULE:message
      const m = /^(.*?):\d+:\d+:\d+:\d+:([EWI]\d+):(.*)$/.exec(line);
      if (!m) return { file: '?', rule: 'unparsed', message: line };
      return { file: m[1] as string, rule: m[2] as string, message: m[3] as string };
    })
    .filter((f) => !(f.rule.startsWith('W') && JUSTIFIED.some((j) => j.rule === f.rule && j.why.test(f.message))));
}
