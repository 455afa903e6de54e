import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../shared/store/store';

/** What a crash injected into the store throws: the process "died" there. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** The Store calls that write (each a primitive of the ledger: state, event, outbox, receipt, observation, pre-warm). */
const WRITES = ['putState', 'appendEvent', 'claimOutbox', 'releaseOutbox', 'discardOutbox', 'markPublished', 'deferOutbox', 'markUndeliverable', 'requeue', 'putObservation', 'putPrewarm'] as const;

/**
 * A store that dies after its Nth write: the write is done (it reached the disk or
 * the table), then InjectedCrash is thrown, and every call after it throws too — as
 * a process killed right after that write would leave things. `crashAfter` null:
 * never; `writes()` counts the writes done (to size the crash points of a run).
 */
export function faultyStore(inner: Store, crashAfter: number | null): { store: Store; writes: () => number; crashed: () => boolean } {
  let writes = 0;
  let dead = false;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (dead) throw new InjectedCrash(`the process died (after write ${crashAfter})`);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if ((WRITES as readonly string[]).includes(prop as string)) {
          writes++;
          if (crashAfter !== null && writes === crashAfter) {
            dead = true;
            throw new InjectedCrash(`killed after write ${writes} (${String(prop)})`);
          }
        }
        return result;
      };
    },
  });
  return { store, writes: () => writes, crashed: () => dead };
}

/** A crashable store as the crash test drives it: the store, its writes so far, whether it died. */
export interface Crashable {
  store: Store;
  writes: () => number;
  crashed: () => boolean;
}

/**
 * A DynamoDB client that dies after its Nth write request (PutItem, UpdateItem,
 * DeleteItem, batch or transaction): DynamoDB applied it, then the process is gone —
 * every request after throws InjectedCrash. The writes counted are the table's own
 * primitives, finer than the Store's methods (a publish receipt and the outbox
 * entry's removal are two).
 */
export function crashingDynamoClient(endpoint: string, crashAfter: number | null): { client: DynamoDBClient; writes: () => number; crashed: () => boolean } {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint, maxAttempts: 1 });
  let writes = 0;
  let dead = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (dead) throw new InjectedCrash(`the process died (after DynamoDB write ${crashAfter})`);
      const out = await next(args);
      if (/^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)Command$/.test(String(context.commandName))) {
        writes++;
        if (crashAfter !== null && writes === crashAfter) {
          dead = true;
          throw new InjectedCrash(`killed after DynamoDB write ${writes} (${String(context.commandName)})`);
        }
      }
      return out;
    },
    { step: 'initialize', name: 'crashAfterNthWrite' },
  );
  return { client, writes: () => writes, crashed: () => dead };
}
