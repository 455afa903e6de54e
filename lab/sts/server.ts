import { createServer } from 'node:http';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import { escapeXml } from '../xml';
import { checkAssumeRole, checkGetCallerIdentity } from './contract';
import type { AddressInfo } from 'node:net';

/** One AssumeRole call as the local STS endpoint saw it. */
export interface AssumeRoleCall {
  roleArn: string;
  sessionName: string;
  /** The access key id that signed the call (the caller's own credentials). */
  callerKeyId: string | null;
}

/** The access key id in a SigV4 Authorization header. */
function signingKeyId(authorization: string | undefined): string | null {
  return /Credential=([^/]+)\//.exec(authorization ?? '')?.[1] ?? null;
}

/** Who the caller is, as GetCallerIdentity answers ([G] Response Elements: Account, Arn, UserId). */
export interface LabCaller {
  account: string;
  arn: string;
  userId: string;
}

/** The lab's caller by default: a user in the lab's account. */
export const LAB_CALLER: LabCaller = {
  account: '123456789012',
  arn: 'arn:aws:iam::123456789012:user/lab',
  userId: 'AIDALABLABLABLABLAB01',
};

/**
 * A local STS endpoint answering AssumeRole with credentials whose key id names
 * the role's account (`ASIA<account>`), so a test can see which identity signed
 * a later call, and GetCallerIdentity with `caller`. For `AWS_ENDPOINT_URL_STS`.
 */
export async function startStsEndpoint(
  calls: AssumeRoleCall[],
  host = '127.0.0.1',
  caller: LabCaller = LAB_CALLER,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    if (params.get('Action') === 'GetCallerIdentity') {
      const refused = checkGetCallerIdentity(params);
      res.writeHead(refused ? refused.status : 200, { 'content-type': 'text/xml' });
      res.end(
        refused
          ? `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${refused.code}</Code><Message>${refused.message}</Message></Error><RequestId>lab</RequestId></ErrorResponse>`
          : `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${escapeXml(caller.arn)}</Arn><UserId>${escapeXml(caller.userId)}</UserId><Account>${caller.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
      return;
    }
    // Held to AssumeRole's documented contract (lab/sts/contract.ts).
    const refusal = checkAssumeRole(params);
    if (refusal) {
      res
        .writeHead(refusal.status, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${refusal.code}</Code><Message>${refusal.message.replace(/[<>&]/g, '?')}</Message></Error><RequestId>lab</RequestId></ErrorResponse>`,
        );
      return;
    }
    const roleArn = params.get('RoleArn') ?? '';
    calls.push({
      roleArn,
      sessionName: params.get('RoleSessionName') ?? '',
      callerKeyId: signingKeyId(req.headers.authorization),
    });
    const account = /::(\d{12}):/.exec(roleArn)?.[1] ?? '000000000000';
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA${account}</AccessKeyId><SecretAccessKey>lab-secret</SecretAccessKey><SessionToken>lab-token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROALAB:elbscope</AssumedRoleId><Arn>${roleArn}/elbscope</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, close: () => closeHttp(server) };
}
