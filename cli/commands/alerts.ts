import { summaryOf } from './catalog';
import { Command } from 'commander';
import { hostname } from 'node:os';
import { alertTestEvent, sendToEachSink } from '../../shared/alerts/alert-test';
import { allSinks } from '../../shared/alerts/sinks';
import { loadConfigFile } from '../../shared/config/load';
import { snsTopicArnSchema } from '../../shared/config/schema';
import { flushOutbox } from '../../shared/ledger/flush';
import { UsageError } from '../../shared/errors';
import { type Store, listEvents } from '../../shared/ledger/store';
import { EXIT, lineIo, type CliIo } from '../io';
import { cliSinks } from '../sinks';
import { openStore } from '../store';
import { storeOptions } from './audit';

interface SinkFlags {
  config?: string;
  snsTopic?: string;
  alertFile?: string;
  store?: string;
  table?: string;
  region?: string;
}

const sinkOptions = (c: Command) =>
  storeOptions(
    c
      .option('--config <file>', 'configuration file whose alerts.snsTopicArn to use')
      .option('--sns-topic <arn>', 'SNS topic (AWS_ENDPOINT_URL_SNS applies); overrides the configuration')
      .option('--alert-file <path>', 'also append the alert to this file, one JSON line'),
  );

/** The SNS topic the flags name: `--sns-topic`, else the configuration file's. */
function topicOf(flags: SinkFlags): string | undefined {
  if (flags.snsTopic) {
    if (!snsTopicArnSchema.safeParse(flags.snsTopic).success)
      throw new UsageError(`--sns-topic ${flags.snsTopic}: not an SNS topic ARN`);
    return flags.snsTopic;
  }
  return flags.config ? loadConfigFile(flags.config).alerts.snsTopicArn : undefined;
}

/** Alerts in the store that are not delivered: refused for good, or waiting for a retry. */
async function undeliveredIn(store: Store): Promise<{ undeliverable: number; retrying: number }> {
  const [events, outbox] = await Promise.all([listEvents(store), store.outbox({ op: 'list' })]);
  return {
    undeliverable: events.filter((e) => e.deliveryError !== null).length,
    retrying: outbox.filter((e) => e.attempts > 0).length,
  };
}

/**
 * `elbscope alert-test`: one test alert through every configured sink; exit 0 when all accepted it, 1 when any did not.
 */
export function alertTestCommand(rawIo: CliIo, setExit: (code: number) => void, now: () => Date): Command {
  // One line per write, naming sinks, stores and events: each escaped whole.
  const io = lineIo(rawIo);
  return sinkOptions(new Command('alert-test').description(summaryOf('alert-test'))).action(
    async (flags: SinkFlags) => {
      const snsTopicArn = topicOf(flags);
      const { sinks, close } = cliSinks(io, { snsTopicArn, alertFile: flags.alertFile });
      try {
        if (!snsTopicArn)
          io.err(
            'elbscope: alert-test: no SNS topic (--sns-topic, or alerts.snsTopicArn in --config): testing the local sinks only',
          );
        const results = await sendToEachSink(sinks, alertTestEvent(now(), `elbscope alert-test on ${hostname()}`));
        for (const r of results) {
          io.out(
            r.accepted
              ? `${r.sink}: accepted${r.messageId ? ` (message id ${r.messageId})` : ''}`
              : `${r.sink}: REFUSED: ${r.error}${r.permanent ? ' (a retry will not help: fix the topic, its policy or key, or the request)' : ' (transient: try again)'}`,
          );
        }
        if (flags.store || flags.table) {
          const store = openStore(flags);
          const { undeliverable, retrying } = await undeliveredIn(store);
          io.out(
            `${store.description}: ${undeliverable} undeliverable alert(s)${undeliverable ? ' (elbscope events --undelivered; elbscope redeliver --id ID)' : ''}, ${retrying} waiting for a retry`,
          );
        }
        setExit(results.every((r) => r.accepted) ? EXIT.ok : EXIT.notObserved);
      } finally {
        close();
      }
    },
  );
}

/**
 * `elbscope redeliver --id ID`: after the cause is fixed, queue an undeliverable
 * alert again and, with a topic given, publish it now through the sinks;
 * without one, the next cycle of the monitor that owns the store publishes it.
 */
export function redeliverCommand(rawIo: CliIo, setExit: (code: number) => void, now: () => Date): Command {
  // One line per write, naming sinks, stores and events: each escaped whole.
  const io = lineIo(rawIo);
  return sinkOptions(new Command('redeliver').description(summaryOf('redeliver')))
    .requiredOption('--id <event-id>', 'the event id (elbscope events --undelivered)')
    .action(async (flags: SinkFlags & { id: string }) => {
      const store = openStore(flags, { write: true });
      const stored = (await listEvents(store)).find((e) => e.record.id === flags.id);
      if (!stored) throw new UsageError(`--id ${flags.id}: no such event in ${store.description}`);
      if (stored.publishedAt)
        throw new UsageError(`--id ${flags.id}: published at ${stored.publishedAt}; nothing to redeliver`);
      const snsTopicArn = topicOf(flags);
      await store.outbox({ op: 'requeue', record: stored.record });
      if (!snsTopicArn) {
        io.out(
          `${flags.id} queued again in ${store.description}: the next cycle of the monitor using this store publishes it (give --sns-topic to publish it now)`,
        );
        setExit(EXIT.ok);
        return;
      }
      const { sinks, close } = cliSinks(io, { snsTopicArn, alertFile: flags.alertFile });
      try {
        const result = await flushOutbox(
          { store, sink: allSinks(sinks), now, claimant: `redeliver-${process.pid}` },
          new Set([flags.id]),
        );
        if (result.published.includes(flags.id)) {
          io.out(`${flags.id}: delivered`);
          setExit(EXIT.ok);
        } else {
          const why =
            result.undeliverable[0]?.error ??
            result.failed[0]?.error ??
            'held by another publisher (its claim has not expired)';
          io.err(
            `elbscope: ${flags.id}: not delivered: ${why}${result.failed.length ? '; it stays queued and is retried' : ''}`,
          );
          setExit(EXIT.notObserved);
        }
      } finally {
        close();
      }
    });
}
