import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLine } from '../../shared/doctor/check';
import { checkPermissions, roleToCheck } from '../../shared/doctor/permissions';
import { checkIdentity, checkSealKey } from '../../shared/doctor/reach';
import { functionStatements } from '../../shared/deploy/role-policies';
import { PREDEPLOY_REFS } from '../../shared/doctor/doctor';
import { parseConfig } from '../../shared/config/load';
import { startElbscope } from '../helpers/running-cli';

// What a hostile or broken IAM, STS or KMS (or something in their place) may answer `elbscope doctor` with, through
// the real SDK: every answer gives one line naming the check and what to do; none is a pass it could not check.

type Answer = { status: number; type: string; body: string } | 'hang';
let answer: (body: string, req: IncomingMessage) => Answer = () => 'hang';
const requests: string[] = [];
let server: Server;
let url: string;
const hanging: ServerResponse[] = [];
const onRequest = new Set<() => void>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push(body);
      for (const f of onRequest) f();
      const a = answer(body, req);
      if (a === 'hang') return void hanging.push(res);
      res.writeHead(a.status, { 'content-type': a.type, 'x-amzn-requestid': 'r' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const credentials = { accessKeyId: 'lab', secretAccessKey: 'lab' };
const client = <T>(C: new (c: object) => T) =>
  new C({ region: 'us-east-1', endpoint: url, maxAttempts: 1, credentials });
const xml = (body: string, status = 200): Answer => ({ status, type: 'text/xml', body });

const config = parseConfig({ loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }] }, 'test');
const statements = functionStatements(config, PREDEPLOY_REFS);
const ROLE = 'arn:aws:iam::123456789012:role/elbscope-prod-TlsProbeRole-X';

/** A SimulatePrincipalPolicy answer. */
function simulation(results: string, extra = ''): Answer {
  return xml(
    `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>${results}${extra}</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`,
  );
}
const result = (action: string, decision: string) =>
  `<member><EvalActionName>${action}</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>${decision}</EvalDecision></member>`;
const actionsOf = (body: string) =>
  [...new URLSearchParams(body).entries()].filter(([k]) => k.startsWith('ActionNames')).map(([, v]) => v);

describe('IAM SimulatePrincipalPolicy answers', () => {
  let iam: IAMClient;
  beforeAll(() => {
    iam = client(IAMClient);
  });
  afterAll(() => iam.destroy());
  const check = (fn: 'observe' | 'tls-probe', arn = ROLE) =>
    checkPermissions(iam, { arn, label: arn, fn }, statements[fn], null);

  it.each([
    ['malformed XML', () => xml('<SimulatePrincipalPolicyResponse><Simul')],
    ['an HTML page', () => ({ status: 200, type: 'text/html', body: '<html><body>proxy</body></html>' })],
    ['no EvaluationResults', () => simulation('<IsTruncated>false</IsTruncated>')],
    [
      'the same Marker for ever',
      () => simulation('<EvaluationResults/><IsTruncated>true</IsTruncated><Marker>m</Marker>'),
    ],
    [
      'a decision it does not know',
      (b: string) =>
        simulation(
          `<EvaluationResults>${actionsOf(b)
            .map((a) => result(a, 'maybe'))
            .join('')}</EvaluationResults><IsTruncated>false</IsTruncated>`,
        ),
    ],
    [
      '10,000 results, none for the actions asked',
      () =>
        simulation(
          `<EvaluationResults>${result('x:Y', 'allowed').repeat(10_000)}</EvaluationResults><IsTruncated>false</IsTruncated>`,
        ),
    ],
    [
      'NoSuchEntity',
      () =>
        xml(
          '<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no role</Message></Error><RequestId>r</RequestId></ErrorResponse>',
          404,
        ),
    ],
  ] as [string, (body: string) => Answer][])('%s: one failing line naming the check', async (_label, make) => {
    answer = (body) => make(body);
    const r = await check('observe');
    expect(r.ok).toBe(false);
    const line = checkLine(r);
    expect(line).toMatch(
      /^✗ arn:aws:iam::123456789012:role\/elbscope-prod-TlsProbeRole-X may make the observe function's calls: .+ — .+$/,
    );
    expect(line).not.toMatch(/\n/);
    expect(line.length).toBeLessThan(2_000);
  });

  it('a role whose function has nothing to simulate (tls-probe) is still asked about: one that does not exist fails', async () => {
    requests.length = 0;
    answer = () =>
      xml(
        '<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name X cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>',
        404,
      );
    const r = await check('tls-probe');
    expect(checkLine(r)).toMatch(/^✗ .*does not exist/);
    expect(requests.length).toBeGreaterThan(0);
  });

  it('…and one that exists passes only as existing, saying its calls were not simulated', async () => {
    answer = (body) =>
      simulation(
        `<EvaluationResults>${actionsOf(body)
          .map((a) => result(a, 'implicitDeny'))
          .join('')}</EvaluationResults><IsTruncated>false</IsTruncated>`,
      );
    const r = await check('tls-probe');
    expect(r.ok).toBe(true);
    expect(checkLine(r)).not.toMatch(/may make/);
    expect(checkLine(r)).toMatch(/exists.*not simulated/);
  });
});

describe('STS GetCallerIdentity answers', () => {
  let sts: STSClient;
  beforeAll(() => {
    sts = client(STSClient);
  });
  afterAll(() => sts.destroy());
  const identity = (arn: string, account: string) =>
    xml(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AIDA</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  it.each([
    ['a garbage ARN', 'garbage', '123456789012'],
    ['an ARN of another account', 'arn:aws:iam::999999999999:user/alice', '123456789012'],
    ['an ARN of another service', 'arn:aws:s3:::bucket', '123456789012'],
    ['no account', 'arn:aws:iam::123456789012:user/alice', ''],
  ])('%s: not a pass', async (_label, arn, account) => {
    answer = () => identity(arn, account);
    const { check, arn: known } = await checkIdentity(sts);
    expect(checkLine(check)).toMatch(/^✗ credentials: .+ — .+$/);
    expect(known).toBeNull();
  });
  it('a real one passes', async () => {
    answer = () => identity('arn:aws:sts::123456789012:assumed-role/dev/alice', '123456789012');
    expect((await checkIdentity(sts)).check.ok).toBe(true);
  });
});

describe('KMS DescribeKey answers', () => {
  let kms: KMSClient;
  beforeAll(() => {
    kms = client(KMSClient);
  });
  afterAll(() => kms.destroy());
  const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const meta = (m: Record<string, unknown>): Answer => ({
    status: 200,
    type: 'application/x-amz-json-1.1',
    body: JSON.stringify({ KeyMetadata: { KeyId: KEY, Arn: KEY, KeySpec: 'HMAC_256', ...m } }),
  });
  it.each([
    ['PendingDeletion', { KeyUsage: 'GENERATE_VERIFY_MAC', Enabled: false, KeyState: 'PendingDeletion' }],
    ['Disabled', { KeyUsage: 'GENERATE_VERIFY_MAC', Enabled: false, KeyState: 'Disabled' }],
    ['ENCRYPT_DECRYPT', { KeyUsage: 'ENCRYPT_DECRYPT', Enabled: true, KeyState: 'Enabled' }],
    [
      'Enabled true but PendingDeletion',
      { KeyUsage: 'GENERATE_VERIFY_MAC', Enabled: true, KeyState: 'PendingDeletion' },
    ],
    ['no KeyState', { KeyUsage: 'GENERATE_VERIFY_MAC', Enabled: true }],
  ])('%s: one failing line', async (_label, m) => {
    answer = () => meta(m);
    expect(checkLine(await checkSealKey(kms, KEY))).toMatch(/^✗ KMS seal key .+ usable: .+ — .+$/);
  });
});

describe('--role values', () => {
  it.each([
    ['empty', ''],
    ['10 KB', `arn:aws:iam::123456789012:role/${'a'.repeat(10_240)}`],
    ['wrong partition', 'arn:azure:iam::123456789012:role/elbscope-prod-ObserveRole-X'],
    ['with newlines', 'observe=arn:aws:iam::123456789012:role/x\n✓ everything passed\n'],
    ['a newline in the function', 'obs\nerve=arn:aws:iam::123456789012:role/x'],
  ])('%s: an error of one short line', (_label, value) => {
    const r = roleToCheck(value);
    expect(r).toBeInstanceOf(Error);
    const message = (r as Error).message;
    expect(message).not.toMatch(/[\n\r]/);
    expect(message.length).toBeLessThan(300);
  });
});

describe('Ctrl-C in the middle of a run', () => {
  it('stops at once: non-zero, one line, no check passed', async () => {
    requests.length = 0;
    answer = () => 'hang'; // every AWS call waits (within its 10 s deadline) for an answer that never comes
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-doctor-int-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }],
        dns: { servers: ['127.0.0.1:9'], timeoutMs: 30_000, tries: 1 },
      }),
    );
    const endpoints = Object.fromEntries(
      ['STS', 'IAM', 'EC2', 'CLOUDWATCH', 'SNS', 'KMS'].map((s) => [`AWS_ENDPOINT_URL_${s}`, url]),
    );
    const run = startElbscope(['doctor', '--config', file], { AWS_REGION: 'us-east-1', ...endpoints });
    // Mid-run: the doctor has asked (STS first) and waits.
    await new Promise<void>((resolve) => onRequest.add(resolve));
    const code = await run.stop();
    expect(code).not.toBe(0);
    expect(run.out.filter((l) => l.startsWith('✓'))).toEqual([]);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/interrupted/);
  });
});
