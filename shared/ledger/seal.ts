import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../errors';

/**
 * The audit's keyed seal: a MAC over a record's digest with a key kept outside the
 * store (a KMS HMAC key on AWS, a key file locally). Whoever can write the store
 * can recompute a SHA-256 hash; without the key they cannot make a seal that
 * verifies, so an edited, forged or unsealed record is named and never trusted.
 */
export interface MacPort {
  /** The key, for messages: `key file /home/a/.config/elbscope/seal.key`, `KMS key arn:…`. */
  readonly description: string;
  /** The MAC of `data` (base64). Throws SealUnavailableError when the key cannot be used. */
  mac(data: string): Promise<string>;
  /** Whether `mac` is `data`'s MAC under the key; 'unknown' when the key cannot be used now (`problem()` says why). */
  verify(data: string, mac: string): Promise<boolean | 'unknown'>;
  /**
   * When the key began: records of a later time carry a seal (one without is not
   * from before keys). Null when not known (KMS: the functions may not DescribeKey).
   */
  since(): Promise<string | null>;
  /** Why the key could not be used last time (null: it could). */
  problem(): string | null;
}

/**
 * The key cannot be used (missing key file, KMS unreachable or refusing): nothing
 * is sealed, nothing is trusted. The environment's, not a bug: one line, exit 1.
 */
export class SealUnavailableError extends EnvironmentError {
  override name = 'SealUnavailableError';
  constructor(message: string) {
    super(message, 'SealUnavailable');
  }
}

/** Bytes KMS takes in one GenerateMac/VerifyMac message ("Specify a message of up to 4,096 bytes"). */
const MAX_MAC_MESSAGE_BYTES = 4096;

/**
 * What a seal covers: the record's kind, its load balancer, its id there, and a
 * SHA-256 digest of its content. The digest keeps every message a few hundred
 * bytes (a state is up to 350 KB; KMS takes 4 KB), and kind, place and id bind
 * the seal to its record: a seal copied onto another record does not verify.
 */
function sealMessage(
  kind: 'state' | 'event' | 'observation' | 'receipt' | 'prewarm' | 'outbox-sink',
  lb: string,
  id: string,
  digest: string,
  part?: string,
): string {
  // `part`: what within the record (an outbox entry's sink); absent, the message is as the other kinds always had it.
  const message = JSON.stringify(
    part === undefined ? ['elbscope-seal/1', kind, lb, id, digest] : ['elbscope-seal/1', kind, lb, id, part, digest],
  );
  if (Buffer.byteLength(message) > MAX_MAC_MESSAGE_BYTES)
    throw new SealUnavailableError(`seal: the message for ${kind} ${id} would be over ${MAX_MAC_MESSAGE_BYTES} bytes`);
  return message;
}

/** SHA-256 of a text, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A port that remembers the MACs it made or verified (HMAC is deterministic): a
 * record this process sealed, read back the next cycle, is checked without a call.
 * Only successes are remembered; at most `max` messages (the oldest go first).
 */
function cachedMacs(port: MacPort, max = 4096): MacPort {
  const known = new Map<string, string>();
  const remember = (data: string, mac: string) => {
    known.delete(data);
    known.set(data, mac);
    if (known.size > max) known.delete(known.keys().next().value as string);
  };
  return {
    description: port.description,
    since: () => port.since(),
    problem: () => port.problem(),
    async mac(data) {
      const cached = known.get(data);
      if (cached !== undefined) return cached;
      const mac = await port.mac(data);
      remember(data, mac);
      return mac;
    },
    async verify(data, mac) {
      if (known.get(data) === mac) return true;
      const ok = await port.verify(data, mac);
      if (ok === true) remember(data, mac);
      return ok;
    },
  };
}

/** Verify many seals, a bounded number at once (KMS: one call each; the local key: none). */
async function verifyAll(
  port: MacPort,
  items: readonly { data: string; mac: string }[],
  concurrency = 8,
): Promise<(boolean | 'unknown')[]> {
  const out = new Array<boolean | 'unknown'>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await port.verify(items[i]!.data, items[i]!.mac);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** What a stored key file holds. */
interface KeyFile {
  key: Buffer;
  createdAt: string;
}

/**
 * The default key file: `$XDG_CONFIG_HOME/elbscope/seal.key`, else
 * `$HOME/.config/elbscope/seal.key` — outside any store directory (whoever can
 * write the store must not be able to read the key). Null without a home.
 */
export function defaultKeyFile(env: NodeJS.ProcessEnv): string | null {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : '');
  return base ? join(base, 'elbscope', 'seal.key') : null;
}

/** Options of a key-file port. */
export interface KeyFileOptions {
  /**
   * Whether a missing key file may be created (writers: the first use). Given a
   * function, it is asked first and answers why not (a store already sealed with a
   * key: a new key would make every seal read as forged) or null.
   */
  create: boolean | (() => Promise<string | null>);
  now?: () => Date;
}

/**
 * HMAC-SHA256 with a key file (the CLI's local store). The file is JSON
 * `{"elbscope":"seal key","createdAt":…,"key":<32 bytes base64>}`, mode 0600,
 * created on first use by a writer (never by `verify`, never over an existing
 * one). A file others may read or write is refused: the key is the whole point.
 */
export function keyFilePort(path: string, options: KeyFileOptions): MacPort {
  let loaded: Promise<KeyFile> | null = null;
  let problem: string | null = null;
  const description = `key file ${path}`;

  const load = (mayCreate: boolean): Promise<KeyFile> => {
    loaded ??= readKey(path).then(async (found) => {
      if (found) return found;
      if (!mayCreate || options.create === false)
        throw new SealUnavailableError(
          `seal: no key file at ${path} (it is created by the first cycle that writes; restore it if it was removed)`,
        );
      const refusal = typeof options.create === 'function' ? await options.create() : null;
      if (refusal) throw new SealUnavailableError(`seal: no key file at ${path}, and ${refusal}`);
      return createKey(path, (options.now ?? (() => new Date()))());
    });
    // A failure is not kept: the file may be restored (or the disk freed) before the next try.
    loaded.catch(() => (loaded = null));
    return loaded;
  };
  const use = async (mayCreate: boolean): Promise<KeyFile | null> => {
    try {
      const key = await load(mayCreate);
      problem = null;
      return key;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
      if (mayCreate) throw err instanceof SealUnavailableError ? err : new SealUnavailableError(problem);
      return null;
    }
  };
  return {
    description,
    problem: () => problem,
    async mac(data) {
      const key = (await use(true)) as KeyFile;
      return createHmac('sha256', key.key).update(data).digest('base64');
    },
    async verify(data, mac) {
      const key = await use(false);
      if (!key) return 'unknown';
      const want = createHmac('sha256', key.key).update(data).digest();
      const got = Buffer.from(mac, 'base64');
      return got.length === want.length && timingSafeEqual(got, want);
    },
    async since() {
      return (await use(false))?.createdAt ?? null;
    },
  };
}

/**
 * The key file at `path`, or null when there is none; a file that is not one (or others may read) is an error naming
 * it.
 */
async function readKey(path: string): Promise<KeyFile | null> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory())
      throw new SealUnavailableError(`seal: key file ${path} is a directory (give the key file's path)`);
    // Like ssh with its keys: a key others can read is not a secret any more.
    if ((info.mode & 0o077) !== 0)
      throw new SealUnavailableError(
        `seal: key file ${path} may be read or written by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 ${path}`,
      );
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof SealUnavailableError) throw err;
    throw new SealUnavailableError(
      `seal: key file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    const value = JSON.parse(text) as { elbscope?: unknown; key?: unknown; createdAt?: unknown };
    const key = typeof value.key === 'string' ? Buffer.from(value.key, 'base64') : Buffer.alloc(0);
    if (
      value.elbscope !== 'seal key' ||
      key.length !== 32 ||
      typeof value.createdAt !== 'string' ||
      !Number.isFinite(Date.parse(value.createdAt))
    )
      throw new Error('fields');
    return { key, createdAt: value.createdAt };
  } catch {
    throw new SealUnavailableError(
      `seal: key file ${path} is not an elbscope seal key (JSON with "elbscope": "seal key", "createdAt" and a 32-byte "key")`,
    );
  }
}

/** Create the key file once (mode 0600, its folder 0700); a writer that lost the race reads the winner's. */
async function createKey(path: string, now: Date): Promise<KeyFile> {
  const key: KeyFile = { key: randomBytes(32), createdAt: now.toISOString() };
  const text = `${JSON.stringify({ elbscope: 'seal key', createdAt: key.createdAt, key: key.key.toString('base64') })}\n`;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    // link, not rename: it fails on an existing key instead of replacing it.
    await link(temp, path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  } catch (err) {
    throw new SealUnavailableError(
      `seal: key file ${path} cannot be created (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return (await readKey(path)) as KeyFile;
}

/** What a stored state's seal says: it verifies, the state is from before keys, or the key cannot be used now (why). */
export type StateSeal = 'sealed' | 'before-keys' | { unchecked: string };

/** What a record's seal says: it verifies, it does not, there is none, or the key cannot be used to tell. */
export type SealStatus = 'sealed' | 'bad' | 'none' | 'unknown';

/** What a seal is over: the record's kind, load balancer, id there, and content digest. */
export interface SealSubject {
  kind: Parameters<typeof sealMessage>[0];
  lb: string;
  id: string;
  /** What within the record the seal is over (an outbox entry's sink by name); absent for whole records. */
  part?: string;
  digest: string;
}

/** The seals of the ledger's records, over one key (remembering what it made and checked: see cachedMacs). */
export class Sealer {
  readonly port: MacPort;

  constructor(port: MacPort) {
    this.port = cachedMacs(port);
  }

  /** The seal of a record (throws SealUnavailableError when the key cannot be used). */
  seal(subject: SealSubject): Promise<string> {
    return this.port.mac(messageOf(subject));
  }

  /** Check one record's seal (`seal` as stored: anything). */
  async check(subject: SealSubject, seal: unknown): Promise<SealStatus> {
    return (await this.checkAll([{ subject, seal }]))[0] as SealStatus;
  }

  /** Check many records' seals, a bounded number of calls at once. */
  async checkAll(items: readonly { subject: SealSubject; seal: unknown }[]): Promise<SealStatus[]> {
    const out: SealStatus[] = items.map(({ seal }) =>
      seal === undefined || seal === null ? 'none' : typeof seal === 'string' && seal !== '' ? 'unknown' : 'bad',
    );
    const asked = items.flatMap((item, i) =>
      out[i] === 'unknown' ? [{ i, data: messageOf(item.subject), mac: item.seal as string }] : [],
    );
    const answers = await verifyAll(this.port, asked);
    for (const [k, { i }] of asked.entries())
      out[i] = answers[k] === 'unknown' ? 'unknown' : answers[k] ? 'sealed' : 'bad';
    return out;
  }
}

function messageOf(subject: SealSubject): string {
  return sealMessage(subject.kind, subject.lb, subject.id, subject.digest, subject.part);
}
