import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { Ledger, type LedgerOptions } from '../ledger/ledger';
import {
  VERSIONED_KINDS,
  type CorruptRecord,
  type ReadRecord,
  type RecordKey,
  type RecordKind,
  type Records,
  type WriteOptions,
} from '../ledger/records';
import { parseStored, StoreRecordCorruptError } from '../ledger/store';
import { withNamedFailures } from './failures';

/**
 * The store's records in one DynamoDB table (`pk`, `sk`; TTL attribute `expiresAt`),
 * each item's value as JSON in `data`, `version` on versioned kinds:
 *
 *   LB#<lb>   STATE            rules' state, versioned
 *   LB#<lb>   EVENT#<seq>      the audit trail (put-if-absent)
 *   LB#<lb>   RECEIPT#<id>     each event's receipt: published, or why it cannot be
 *   LB#<lb>   OBS#<at>         raw observations, expiring after the TTL
 *   LB#<lb>   PREWARM#<id>     pre-warm targets
 *   LBS       <lb>             index of load balancers
 *   OUTBOX    <id>             events not yet published, versioned (claims, backoff)
 *
 * Items an earlier elbscope wrote are handed over as they are: an item without `data`
 * has no value, and every attribute but the key, `data`, `version` and `expiresAt`
 * goes to the ledger as `legacy` (its upgrade reads them: shared/ledger/upgrade.ts).
 */
export class DynamoDbRecords implements Records {
  readonly description: string;
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.description = `DynamoDB table ${table}`;
  }

  private key(key: RecordKey): { pk: string; sk: string } {
    if (key.kind === 'outbox') return { pk: 'OUTBOX', sk: key.id };
    return {
      pk: `LB#${key.lb ?? ''}`,
      sk: key.kind === 'state' ? 'STATE' : `${SK_PREFIX[key.kind]}${key.id}`,
    };
  }

  async get(key: RecordKey): Promise<ReadRecord | null> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.key(key), ConsistentRead: true }),
    );
    return Item ? this.read(key.kind, Item) : null;
  }

  private read(kind: RecordKind, item: Record<string, unknown>): ReadRecord {
    const { pk, sk, data, version, expiresAt: _expiresAt, id: _id, ...legacy } = item;
    const location = `${this.table} ${String(pk)} ${String(sk)}`;
    // An item without `data` is an earlier elbscope's: its attributes go to the ledger's upgrade as they are.
    const value = data === undefined ? undefined : parseStored<unknown>(String(data), location);
    return {
      id: idOfKey(kind, String(sk)),
      value,
      version: VERSIONED_KINDS.has(kind) ? (typeof version === 'number' ? version : 0) : 1,
      location,
      legacy,
    };
  }

  async putIfVersion(key: RecordKey, value: unknown, expectedVersion: number): Promise<boolean> {
    // Listed before its first state: a crash between leaves a listed load balancer with no state yet, never an unlisted
    // one.
    if (key.kind === 'state' && expectedVersion === 0)
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'LBS', sk: key.lb ?? '' } }));
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: { ...this.key(key), version: expectedVersion + 1, data: JSON.stringify(value) },
        // Version 0: none stored — or an item from before versions (an earlier outbox entry).
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(version)' }
          : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      }),
    );
  }

  async putIfAbsent(key: RecordKey, value: unknown, options: WriteOptions = {}): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: { ...this.key(key), data: JSON.stringify(value), expiresAt: options.expiresAt },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async put(key: RecordKey, value: unknown, options: WriteOptions = {}): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...this.key(key), data: JSON.stringify(value), expiresAt: options.expiresAt },
      }),
    );
  }

  /** A conditional write: false when its condition failed. */
  private async conditional(command: PutCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(command as PutCommand);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async query(
    kind: RecordKind,
    lb: string | null,
    range: { from?: string; to?: string } = {},
    corrupt?: (bad: CorruptRecord) => void,
  ): Promise<ReadRecord[]> {
    const { pk, sk } = this.key({ kind, lb, id: '' });
    const prefix = kind === 'state' || kind === 'outbox' ? '' : SK_PREFIX[kind];
    const input =
      kind === 'outbox' || kind === 'state'
        ? {
            KeyConditionExpression: kind === 'state' ? 'pk = :pk AND sk = :sk' : 'pk = :pk',
            ExpressionAttributeValues: kind === 'state' ? { ':pk': pk, ':sk': sk } : { ':pk': pk },
          }
        : {
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': pk,
              ':from': `${prefix}${range.from === undefined ? '' : range.from}`,
              ':to': `${prefix}${range.to === undefined ? '~' : range.to}`,
            },
          };
    const out: ReadRecord[] = [];
    for await (const page of paginateQuery(
      { client: this.doc },
      { TableName: this.table, ConsistentRead: true, ...input },
    )) {
      for (const item of page.Items ?? []) {
        try {
          out.push(this.read(kind, item));
        } catch (err) {
          if (!(err instanceof StoreRecordCorruptError) || !corrupt) throw err;
          corrupt({ id: idOfKey(kind, String(item.sk)), location: err.location, reason: err.reason });
        }
      }
    }
    return out;
  }

  async delete(key: RecordKey, expectedVersion?: number): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: this.key(key),
        ...(expectedVersion === undefined
          ? {}
          : expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(version)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      }),
    );
  }

  async quarantine(key: RecordKey, at: Date): Promise<string> {
    const k = this.key(key);
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: k, ConsistentRead: true }));
    const sk = `CORRUPT#${at.toISOString()}#${k.sk}`;
    if (Item) await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...Item, sk } }));
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: k }));
    return `${this.table} ${k.pk} ${sk}`;
  }

  async loadBalancers(): Promise<string[]> {
    const out: string[] = [];
    for await (const page of paginateQuery(
      { client: this.doc },
      {
        TableName: this.table,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'LBS' },
      },
    )) {
      for (const item of page.Items ?? []) out.push(String(item.sk));
    }
    return out;
  }

  /** DynamoDB's TTL drops expired items (their `expiresAt`, on AWS's clock). */
  readonly expiresOnItsOwn = true;

  async ids(kind: RecordKind, lb: string, options: { newest?: number } = {}): Promise<string[]> {
    const { pk } = this.key({ kind, lb, id: '' });
    const prefix = kind === 'state' || kind === 'outbox' ? '' : SK_PREFIX[kind];
    const out: string[] = [];
    // Keys only (`newest`: read from the end, as far as asked); a Query is billed by the items' size all the same, so
    // the ledger asks for few.
    const input = {
      TableName: this.table,
      ConsistentRead: true,
      ProjectionExpression: 'sk',
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ...(options.newest === undefined ? {} : { ScanIndexForward: false, Limit: options.newest }),
    };
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const item of page.Items ?? []) out.push(idOfKey(kind, String(item.sk)));
      if (options.newest !== undefined && out.length >= options.newest) break;
    }
    return options.newest === undefined ? out : out.slice(0, options.newest).reverse();
  }

  /** Never asked (the TTL drops them); deletes them if it is. */
  async expire(kind: RecordKind, lb: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.delete({ kind, lb, id });
  }
}

/** The store as the functions use it: the ledger over a DynamoDB table. */
export function dynamoDbStore(client: DynamoDBClient, table: string, options: LedgerOptions = {}): Ledger {
  // A missing table, a refused endpoint, denied access: one named error of this store (shared/store/failures.ts).
  return new Ledger(withNamedFailures(new DynamoDbRecords(client, table)), options);
}

const SK_PREFIX: Record<Exclude<RecordKind, 'state' | 'outbox'>, string> = {
  event: 'EVENT#',
  receipt: 'RECEIPT#',
  observation: 'OBS#',
  prewarm: 'PREWARM#',
};

/** A sort key back to its record's id (the ledger's, as given: shared/ledger/keys.ts pads the ones that must sort). */
function idOfKey(kind: RecordKind, sk: string): string {
  if (kind === 'outbox') return sk;
  if (kind === 'state') return 'STATE';
  return sk.slice(SK_PREFIX[kind].length);
}
