import { GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { kmsClient, kmsMacPort } from '../../../shared/aws/kms-seal';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle } from '../../../shared/cycle/record';
import type { ChainedEvent } from '../../../shared/detect/state';
import { SealUnavailableError } from '../../../shared/ledger/seal';
import { auditLoadBalancer } from '../../../shared/report/build';
import { dynamoDbStore } from '../../../shared/store/dynamodb';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../../lab/kms/server';
import { createTable, startDynalite } from '../../helpers/dynalite';
import { nodeSnapshot } from '../../helpers/snapshots';

// The seal on AWS: the stack's KMS HMAC key through the real SDK (@aws-sdk/client-kms,
// built as the functions build it), against the lab's KMS held to the documented
// contract of GenerateMac and VerifyMac.

const key = labHmacKey({ aliases: ['alias/elbscope-seal'] });
const encryptKey = labHmacKey({ keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' });
const kms: KmsState = { keys: [key, encryptKey], calls: [], failNext: [] };
let endpoint: Awaited<ReturnType<typeof startKmsEndpoint>>;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  endpoint = await startKmsEndpoint(kms);
  // How the functions reach KMS: the SDK's own endpoint setting for the service.
  process.env.AWS_ENDPOINT_URL_KMS = endpoint.url;
  dynamo = await startDynalite();
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_KMS;
  await endpoint?.close();
  await dynamo?.stop();
});

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => [err.name, err.$metadata?.httpStatusCode],
  );

describe('The lab KMS holds GenerateMac and VerifyMac to their contract (through the real SDK)', () => {
  const client = kmsClient('us-east-1');
  const message = Buffer.from('elbscope');

  it('makes an HMAC-SHA256 that VerifyMac accepts, by key ARN, key id or alias', async () => {
    for (const id of [key.arn, key.keyId, 'alias/elbscope-seal']) {
      const made = await client.send(
        new GenerateMacCommand({ KeyId: id, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
      );
      expect(made.Mac).toHaveLength(32);
      expect(made.KeyId).toBe(key.arn);
      const checked = await client.send(
        new VerifyMacCommand({ KeyId: id, MacAlgorithm: 'HMAC_SHA_256', Message: message, Mac: made.Mac }),
      );
      expect(checked.MacValid).toBe(true);
    }
  });

  it('refuses what the API reference refuses, with the error the SDK names', async () => {
    const mac = (
      await client.send(new GenerateMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }))
    ).Mac!;
    const wrong = Buffer.from(mac).fill(0);
    expect(
      await errorOf(
        client.send(
          new VerifyMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message, Mac: wrong }),
        ),
      ),
    ).toEqual(['KMSInvalidMacException', 400]);
    expect(
      await errorOf(
        client.send(
          new GenerateMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.alloc(4097, 1) }),
        ),
      ),
    ).toEqual(['ValidationException', 400]);
    expect(
      await errorOf(
        client.send(
          new GenerateMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.alloc(4096, 1) }),
        ),
      ),
    ).toBeNull();
    expect(
      await errorOf(
        client.send(
          new GenerateMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_MD5' as 'HMAC_SHA_256', Message: message }),
        ),
      ),
    ).toEqual(['ValidationException', 400]);
    expect(
      await errorOf(
        client.send(new GenerateMacCommand({ KeyId: key.arn, MacAlgorithm: 'HMAC_SHA_512', Message: message })),
      ),
    ).toEqual(['InvalidKeyUsageException', 400]);
    expect(
      await errorOf(
        client.send(new GenerateMacCommand({ KeyId: encryptKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message })),
      ),
    ).toEqual(['InvalidKeyUsageException', 400]);
    expect(
      await errorOf(
        client.send(new GenerateMacCommand({ KeyId: 'alias/none', MacAlgorithm: 'HMAC_SHA_256', Message: message })),
      ),
    ).toEqual(['NotFoundException', 400]);
  });
});

describe('kmsMacPort', () => {
  it('seals and checks; a wrong MAC is false; a missing key or an unreachable KMS is never a verdict', async () => {
    const port = kmsMacPort(kmsClient('us-east-1'), key.arn);
    const mac = await port.mac('data');
    expect(await port.verify('data', mac)).toBe(true);
    expect(await port.verify('other data', mac)).toBe(false);
    expect(await port.verify('data', 'not a mac')).toBe(false);
    const missing = kmsMacPort(kmsClient('us-east-1'), 'alias/none');
    await expect(missing.mac('data')).rejects.toThrow(SealUnavailableError);
    await expect(missing.mac('data')).rejects.toThrow(
      /^seal: KMS GenerateMac with alias\/none failed \(NotFoundException: Key 'alias\/none' does not exist\)$/,
    );
    expect(await missing.verify('data', mac)).toBe('unknown');
    expect(missing.problem()).toMatch(/VerifyMac with alias\/none failed \(NotFoundException/);
  });
});

describe('A DynamoDB store sealed with the KMS key', () => {
  const DNS = 'web-1.us-east-1.elb.amazonaws.com';
  const config = parseConfig(
    {
      loadBalancers: [{ dnsName: DNS }],
      detect: { confirm: { m: 1, n: 1 } },
      capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
    },
    'test',
  );
  const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
  const recorder = () => {
    const got: ChainedEvent[] = [];
    return {
      got,
      description: 'rec',
      publish: async (e: ChainedEvent) => (got.push(e), { messageId: 'm' }),
    } satisfies AlertSink & { got: ChainedEvent[] };
  };
  const down: AlertSink = {
    description: 'down',
    publish: async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalError' })),
  };

  it('verifies with the key; a forged receipt is named and does not stop the queued alert; a warm process makes no call for what it sealed', async () => {
    const table = `kms-${Math.random().toString(36).slice(2)}`;
    await createTable(dynamo.client, table);
    const open = () => dynamoDbStore(dynamo.client, table, { seal: kmsMacPort(kmsClient('us-east-1'), key.arn) });
    const store = open();
    const cycle = (m: number, ips: string[], sink: AlertSink) =>
      recordCycle(config, [nodeSnapshot(DNS, ips)], at(m), { store, sink, now: () => new Date(at(m)), claimant: 't' });
    await cycle(0, ['10.0.0.1'], recorder());
    await cycle(1, ['10.0.0.1', '10.0.0.2'], down);
    // A quiet cycle of the same process: the state it sealed is checked from memory, no VerifyMac.
    const before = kms.calls.length;
    await cycle(2, ['10.0.0.1', '10.0.0.2'], down);
    expect(kms.calls.slice(before).filter((c) => c.operation === 'VerifyMac')).toEqual([]);

    const clean = await auditLoadBalancer(open(), 'web', new Date(at(30)));
    expect(clean.firstBreak).toBeNull();
    expect(clean.sealCheck).toMatchObject({ key: `KMS key ${key.arn}`, beforeKeys: 0, unchecked: 0 });
    expect(clean.sealCheck!.sealed).toBeGreaterThanOrEqual(4);

    const queued = (await store.outbox({ op: 'list' }))[0]!.record;
    await store.records.put({ kind: 'receipt', lb: 'web', id: queued.id }, { publishedAt: at(3), messageId: 'x' });
    const forged = await auditLoadBalancer(open(), 'web', new Date(at(30)));
    expect(forged.firstBreak?.reason).toMatch(
      /^the receipt of record #1 carries no seal, but every record since 2026-11-25T10:00:00.000Z is sealed/,
    );
    const sink = recorder();
    await recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1', '10.0.0.2'])], at(4), {
      store: open(),
      sink,
      now: () => new Date(at(4)),
      claimant: 't',
    });
    expect(sink.got.map((e) => e.id)).toEqual([queued.id]);

    // KMS unreachable (its errors after the SDK's retries): the audit says it cannot check, and passes nothing.
    kms.failNext.push(
      ...Array.from({ length: 1000 }, () => ({ status: 400, code: 'KMSInternalException', message: 'down' })),
    );
    const unreachable = await auditLoadBalancer(open(), 'web', new Date(at(30)));
    kms.failNext.length = 0;
    expect(unreachable.sealCheck).toMatchObject({ sealed: 0, firstBreak: null });
    expect(unreachable.sealCheck!.unchecked).toBeGreaterThanOrEqual(4);
    expect(unreachable.sealCheck!.unavailable).toMatch(
      /^seal: KMS VerifyMac with arn:aws:kms:us-east-1:123456789012:key\/\S+ failed \(KMSInternalException: down\)$/,
    );
  }, 60_000);
});
