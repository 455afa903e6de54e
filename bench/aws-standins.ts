// DynamoDB (dynalite, with elbscope's table), the lab's SNS endpoint and its CloudWatch in their
// own process, for benchmarks that run a packaged handler. Prints the endpoints
// as one JSON line; stops when its standard input closes.
// The table is created through the SDK: any credentials do for a loopback stand-in.
process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
import { startSnsEndpoint, type SnsState } from '../lab/sns/server';
import { cloudWatchState, startCloudWatch } from '../lab/cloudwatch/server';
import { startDynalite } from '../tests/helpers/dynalite';

const dynamo = await startDynalite('elbscope-bench');
const sns: SnsState = { messages: [], failNext: [], refused: [] };
const topic = await startSnsEndpoint(sns);
// CloudWatch as for load balancers with no surge queue: the GetMetricData calls are made and answered, with no
// datapoints.
const cloudwatch = cloudWatchState(() => []);
const metrics = await startCloudWatch(cloudwatch);
process.stdout.write(
  `${JSON.stringify({ dynamodb: dynamo.endpoint, table: dynamo.table, sns: topic.url, cloudwatch: metrics.url })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(
    `${JSON.stringify({ published: sns.messages.length, refused: sns.refused?.length ?? 0, metricCalls: cloudwatch.requests.length, metricRefused: cloudwatch.refused.length })}\n`,
  );
  void Promise.all([dynamo.stop(), topic.close(), metrics.close()]).then(() => process.exit(0));
});
