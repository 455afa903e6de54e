import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { requestHandlerWith } from './deadlines';

/**
 * Credentials for another account: the role is assumed with STS (the SDK's own
 * provider, which caches and refreshes the session), from the function's own
 * credentials. Undefined role → undefined: the default chain.
 */
export function credentialsFor(roleArn: string | undefined, region: string): AwsCredentialIdentityProvider | undefined {
  if (!roleArn) return undefined;
  return fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'elbscope', DurationSeconds: 3600 }, clientConfig: { region, requestHandler: requestHandlerWith() } });
}
