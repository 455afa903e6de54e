import { randomUUID } from 'node:crypto';
import {
  AuthorizationErrorException,
  InvalidParameterException,
  InvalidParameterValueException,
  NotFoundException,
  PublishCommand,
  SNSServiceException,
  type PublishCommandInput,
} from '@aws-sdk/client-sns';
import type { AwsStub } from 'aws-sdk-client-mock';
import { checkPublish, type SnsRefusal, type TopicFacts } from '../../lab/sns/publish-contract';

const MODELED = {
  InvalidParameter: InvalidParameterException,
  ParameterValueInvalid: InvalidParameterValueException,
  NotFound: NotFoundException,
  AuthorizationError: AuthorizationErrorException,
} as const;

/**
 * The error the SDK raises for an SNS refusal: the modeled exception where there is one, as its deserializer builds it.
 */
function snsError(refusal: SnsRefusal): SNSServiceException {
  const $metadata = { httpStatusCode: refusal.status, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
  const Modeled = MODELED[refusal.code as keyof typeof MODELED];
  if (Modeled) return new Modeled({ message: refusal.message, $metadata });
  return new SNSServiceException({
    name: refusal.code,
    $fault: refusal.status >= 500 ? 'server' : 'client',
    message: refusal.message,
    $metadata,
  });
}

/**
 * Make a mocked SNS client (aws-sdk-client-mock) hold every Publish to the
 * documented contract, as the lab's endpoint does: a request real SNS would
 * refuse is rejected with the SDK's own exception. `failNext` refusals are
 * answered first, one per call. Returns the accepted requests.
 */
export function enforcePublishContract(
  mock: AwsStub<any, any, any>,
  options: { failNext?: SnsRefusal[]; facts?: TopicFacts } = {},
): PublishCommandInput[] {
  const accepted: PublishCommandInput[] = [];
  mock.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    const refusal = options.failNext?.shift() ?? checkPublish(input, options.facts);
    if (refusal) throw snsError(refusal);
    accepted.push(input);
    return { MessageId: randomUUID() };
  });
  return accepted;
}
