// Runs a packaged Lambda handler as the Lambda runtime would (one process, the
// handler required once, invoked per scheduled event) and writes what happened
// to the file named by argv[3]: each invocation's result and time, and peak RSS.
// Its standard output is the handler's (Powertools logs), left to the caller.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const [handlerFile, outFile, invocations = '2', timeoutS = '50'] = process.argv.slice(2);
const { handler } = createRequire(import.meta.url)(handlerFile);
const runs = [];
for (let i = 0; i < Number(invocations); i++) {
  const started = Date.now();
  const deadline = started + Number(timeoutS) * 1000;
  const context = {
    functionName: 'elbscope-bench-observe',
    awsRequestId: `bench-${i}`,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:elbscope-bench-observe',
    memoryLimitInMB: '256',
    functionVersion: '$LATEST',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  const time = new Date(Math.floor(started / 60_000) * 60_000).toISOString();
  const event = {
    id: `e${i}`,
    version: '0',
    account: '123456789012',
    region: 'us-east-1',
    resources: [],
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    time,
    detail: {},
  };
  const result = await handler(event, context);
  runs.push({
    ms: Date.now() - started,
    observed: result.observed,
    unresolved: result.unresolved.length,
    skipped: result.skipped.length,
    errors: result.errors,
    events: result.events.length,
  });
  // The next invocation is a later minute's schedule.
  await new Promise((r) => setTimeout(r, 10));
}
writeFileSync(
  outFile,
  JSON.stringify({
    runs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapLimitMb: (await import('node:v8')).getHeapStatistics().heap_size_limit / 2 ** 20,
  }),
);
process.exit(0);
