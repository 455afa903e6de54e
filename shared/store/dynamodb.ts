import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { PrewarmTarget } from '../detect/rules';
import { emptyState, type ChainedEvent, type LoadBalancerState } from '../detect/state';
import { BARE_STATE_SHAPE, byEventTime, EVENT_SHAPE, OBSERVATION_SHAPE, parseStored, PREWARM_SHAPE, StoreConflictError, StoreRecordCorruptError, deliveredList, type OutboxEntry, type OutboxRetry, type Store, type StoredEvent, type StoredObservation } from './store';
import { observationHeadOf } from './chain';

/**
 * The store in one DynamoDB table (`pk`, `sk`; TTL attribute `expiresAt`):
 *
 *   LB#<lb>   STATE            rules' state, `version` for conditional writes
 *   LB#<lb>   EVENT#<seq>      the audit trail (put-if-absent), `publishedAt` set once sent,
 *                              or `undeliverableAt`/`deliveryError` when a sink refused it for good
 *   LB#<lb>   OBS#<at>         raw observations, expiring after the TTL
 *   LB#<lb>   PREWARM#<id>     pre-warm targets
 *   LBS       <lb>             index of load balancers
 *   OUTBOX    <id>             events not yet published, with a claim lease and,
 *                              after transient failures, `attempts`/`notBefore`/`lastError`
 */
export class DynamoDbStore implements Store {
  readonly description: string;
  private readonly doc: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, readonly table: string) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.description = `DynamoDB table ${table}`;
  }

  async getState(lb: string) {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `LB#${lb}`, sk: 'STATE' }, ConsistentRead: true }));
    if (!Item) return null;
    const location = `${this.table} LB#${lb} STATE`;
    try {
      const state = parseStored(String(Item.data ?? ''), location, BARE_STATE_SHAPE);
      if (typeof Item.version !== 'number') throw new StoreRecordCorruptError(location, 'no version');
      return { state, version: Item.version };
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError)) throw err;
      // Kept for a person beside it; the next write replaces the item (conditional on its version).
      const movedTo = `${this.table} LB#${lb} CORRUPT#${new Date().toISOString()}#STATE`;
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...Item, sk: movedTo.split(' ').at(-1) } }));
      const state = emptyState();
      state.chain = await this.chainHead(lb);
      // The observations' chain continues from the stored ones (unreadable ones: verify names them).
      const observationHead = observationHeadOf(await this.listObservations(lb).catch(() => []));
      if (observationHead) state.observationChain = observationHead;
      return { state, version: typeof Item.version === 'number' ? Item.version : 0, recovered: { location, reason: err.reason, movedTo } };
    }
  }

  /** The last stored event's place in the chain (the genesis when there is none). */
  private async chainHead(lb: string): Promise<{ seq: number; hash: string }> {
    const { Items } = await this.doc.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': `LB#${lb}`, ':p': 'EVENT#' }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }),
    );
    const item = Items?.[0];
    if (!item) return emptyState().chain;
    const record = parseStored(String(item.record ?? ''), `${this.table} ${String(item.pk)} ${String(item.sk)}`, EVENT_SHAPE);
    return { seq: record.seq, hash: record.hash };
  }

  async putState(lb: string, state: LoadBalancerState, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `LB#${lb}`, sk: 'STATE', version: expectedVersion + 1, data: JSON.stringify(state) },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
    if (expectedVersion === 0) await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'LBS', sk: lb } }));
    return true;
  }

  async appendEvent(record: ChainedEvent): Promise<void> {
    const key = this.eventKey(record);
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...key, id: record.id, record: JSON.stringify(record) }, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      if (Item?.id !== record.id) throw new StoreConflictError(`${this.table} ${key.pk} ${key.sk}: already holds event ${String(Item?.id)}, not ${record.id}`);
      if (Item.publishedAt || Item.undeliverableAt) return; // appended and published (or refused for good) before
    }
    // Queue for publishing, unless queued already: putting the item again would wipe a
    // publisher's claim (and the retry count), and a second writer would publish it too.
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'OUTBOX', sk: record.id, record: JSON.stringify(record) }, ConditionExpression: 'attribute_not_exists(pk)' })).catch((err: unknown) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
  }

  async getEvent(lb: string, seq: number): Promise<StoredEvent | null> {
    const key = this.eventKey({ loadBalancer: lb, seq });
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return Item ? this.storedEvent(Item) : null;
  }

  /** An event item as a StoredEvent: the chained record, and its receipt kept beside it. */
  private storedEvent(item: Record<string, unknown>): StoredEvent {
    const location = `${this.table} ${item.pk as string} ${item.sk as string}`;
    return {
      record: parseStored(String(item.record ?? ''), location, EVENT_SHAPE),
      publishedAt: (item.publishedAt as string | undefined) ?? null,
      deliveryError: item.undeliverableAt ? { at: item.undeliverableAt as string, error: String(item.deliveryError ?? '') } : null,
      location,
    };
  }

  async discardOutbox(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'OUTBOX', sk: id } }));
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateQuery({ client: this.doc }, { TableName: this.table, ConsistentRead: true, ...input })) items.push(...(page.Items ?? []));
    return items;
  }

  private byPrefix(pk: string, prefix: string) {
    return this.query({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': pk, ':p': prefix } });
  }

  async listLoadBalancers(): Promise<string[]> {
    return (await this.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'LBS' } })).map((i) => i.sk as string);
  }

  async listEvents(lb?: string): Promise<StoredEvent[]> {
    const lbs = lb ? [lb] : await this.listLoadBalancers();
    const out: StoredEvent[] = [];
    for (const name of lbs) {
      for (const item of await this.byPrefix(`LB#${name}`, 'EVENT#')) out.push(this.storedEvent(item));
    }
    return out;
  }

  async listOutbox(): Promise<OutboxEntry[]> {
    const items = await this.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'OUTBOX' } });
    return items
      .map((i) => ({
        record: parseStored(String(i.record ?? ''), `${this.table} OUTBOX ${i.sk as string}`, EVENT_SHAPE),
        attempts: (i.attempts as number | undefined) ?? 0,
        notBefore: (i.notBefore as string | undefined) ?? null,
        lastError: (i.lastError as string | undefined) ?? null,
        delivered: deliveredList(i.delivered),
      }))
      .sort(byEventTime);
  }

  async claimOutbox(id: string, claimant: string, now: Date, leaseMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'OUTBOX', sk: id },
          UpdateExpression: 'SET claimant = :c, claimUntil = :until',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(claimUntil) OR claimUntil < :now)',
          ExpressionAttributeValues: { ':c': claimant, ':until': now.getTime() + leaseMs, ':now': now.getTime() },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async releaseOutbox(id: string): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.table, Key: { pk: 'OUTBOX', sk: id }, UpdateExpression: 'REMOVE claimant, claimUntil', ConditionExpression: 'attribute_exists(pk)' })).catch((err: unknown) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
  }

  private eventKey(record: Pick<ChainedEvent, 'loadBalancer' | 'seq'>) {
    return { pk: `LB#${record.loadBalancer}`, sk: `EVENT#${String(record.seq).padStart(10, '0')}` };
  }

  async markPublished(record: ChainedEvent, at: Date, messageId: string | null): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.eventKey(record),
        UpdateExpression: 'SET publishedAt = :at, messageId = :m REMOVE undeliverableAt, deliveryError',
        ExpressionAttributeValues: { ':at': at.toISOString(), ':m': messageId ?? '' },
      }),
    );
    await this.discardOutbox(record.id);
  }

  async markUndeliverable(record: ChainedEvent, at: Date, error: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.eventKey(record),
        UpdateExpression: 'SET undeliverableAt = :at, deliveryError = :e',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString(), ':e': error },
      }),
    );
    await this.discardOutbox(record.id);
  }

  async deferOutbox(id: string, retry: OutboxRetry): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'OUTBOX', sk: id },
          UpdateExpression: 'SET attempts = :a, notBefore = :n, lastError = :e, delivered = :d REMOVE claimant, claimUntil',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':a': retry.attempts, ':n': retry.notBefore, ':e': retry.lastError, ':d': [...(retry.delivered ?? [])] },
        }),
      )
      .catch((err: unknown) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err; // published meanwhile by another writer
      });
  }

  async requeue(record: ChainedEvent): Promise<void> {
    const key = this.eventKey(record);
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    if (Item?.id !== record.id) throw new StoreConflictError(`${this.table} ${key.pk} ${key.sk}: event ${record.id} is not stored there`);
    if (Item.publishedAt) throw new StoreConflictError(`${this.table} ${key.pk} ${key.sk}: event ${record.id} was published already`);
    // Queued first, mark cleared second: a crash between leaves it queued (and still marked), never lost.
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'OUTBOX', sk: record.id, record: JSON.stringify(record) } }));
    await this.doc.send(new UpdateCommand({ TableName: this.table, Key: key, UpdateExpression: 'REMOVE undeliverableAt, deliveryError' }));
  }

  async putObservation(observation: StoredObservation, ttlDays: number): Promise<void> {
    const expiresAt = Math.floor(Date.parse(observation.at) / 1000) + ttlDays * 86_400;
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: `LB#${observation.loadBalancer}`, sk: `OBS#${observation.at}`, data: JSON.stringify(observation), expiresAt } }));
  }

  async listObservations(lb: string, from?: string, to?: string): Promise<StoredObservation[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': `LB#${lb}`, ':from': `OBS#${from ?? ''}`, ':to': `OBS#${to ?? '~'}` },
    });
    return items.map((i) => parseStored(String(i.data ?? ''), `${this.table} ${i.pk as string} ${i.sk as string}`, OBSERVATION_SHAPE));
  }

  async putPrewarm(target: PrewarmTarget): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: `LB#${target.loadBalancer}`, sk: `PREWARM#${target.id}`, data: JSON.stringify(target) }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async listPrewarms(lb?: string): Promise<PrewarmTarget[]> {
    const lbs = lb ? [lb] : await this.listLoadBalancers();
    const out: PrewarmTarget[] = [];
    for (const name of lbs) for (const item of await this.byPrefix(`LB#${name}`, 'PREWARM#')) out.push(parseStored(String(item.data ?? ''), `${this.table} ${item.pk as string} ${item.sk as string}`, PREWARM_SHAPE));
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }
}
