import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/** dynalite (the DynamoDB API on loopback, in memory) with elbscope's table created, as serverless.yml defines it. */
export async function startDynalite(
  table = 'elbscope-test',
): Promise<{ client: DynamoDBClient; endpoint: string; table: string; stop(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint });
  await createTable(client, table);
  return {
    client,
    endpoint,
    table,
    stop: async () => {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * elbscope's table (`pk`/`sk`, on demand), as serverless.yml defines it, created
 * under `table`; returns once it is ACTIVE (dynalite, like DynamoDB, creates it in
 * the background: a write before then is refused, and a cycle records nothing).
 */
export async function createTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  // dynalite turns it ACTIVE on its next tick (createTableMs 0): ask until it says so (the SDK's waiter sleeps 1 s
  // between asks).
  for (let i = 0; i < 500; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`dynalite: table ${table} not ACTIVE`);
}
