// DynamoDB (dynalite, with elbscope's table) and the lab's SNS endpoint in their
// own process, for benchmarks that run a packaged handler. Prints the endpoints
// as one JSON line; stops when its standard input closes.
// The table is created through the SDK: any credentials do for a loopback stand-in.
process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
import { startSnsEndpoint, type SnsState } from '../lab/sns/server';
import { startDynalite } from '../tests/helpers/dynalite';

const dynamo = await startDynalite('elbscope-bench');
const sns: SnsState = { messages: [], failNext: [], refused: [] };
const topic = await startSnsEndpoint(sns);
process.stdout.write(`${JSON.stringify({ dynamodb: dynamo.endpoint, table: dynamo.table, sns: topic.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`${JSON.stringify({ published: sns.messages.length, refused: sns.refused?.length ?? 0 })}\n`);
  void Promise.all([dynamo.stop(), topic.close()]).then(() => process.exit(0));
});
