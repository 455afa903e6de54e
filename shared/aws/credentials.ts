import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { requestHandlerWith } from './deadlines';
import { perRegionAndRole } from './per-region';

/** One provider per role and region (made on first use). */
const providerFor = perRegionAndRole((region, roleArn) =>
  shared(
    fromTemporaryCredentials({
      params: { RoleArn: roleArn as string, RoleSessionName: 'elbscope', DurationSeconds: 3600 },
      clientConfig: { region, requestHandler: requestHandlerWith() },
    }),
  ),
);

/**
 * Credentials for another account: the role is assumed with STS (the SDK's own
 * provider, which caches and refreshes the session), from the function's own
 * credentials; one provider per role and region, so the EC2, ELB and CloudWatch
 * clients of a role share one session (one AssumeRole, not one per client).
 * Undefined role → undefined: the default chain.
 */
export function credentialsFor(roleArn: string | undefined, region: string): AwsCredentialIdentityProvider | undefined {
  return roleArn ? providerFor(region, roleArn) : undefined;
}

/** Credentials kept until five minutes before they expire (the provider itself asks STS on every call). */
function shared(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: ReturnType<AwsCredentialIdentityProvider> | null = null;
  return async (props) => {
    if (current) {
      const held = await current.catch(() => null);
      if (held && (!held.expiration || held.expiration.getTime() - Date.now() > 5 * 60_000)) return held;
    }
    current = provider(props);
    return current;
  };
}
