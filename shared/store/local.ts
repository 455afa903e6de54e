import { link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
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
import { parseStored, StoreConflictError, StoreRecordCorruptError } from '../ledger/store';
import { withNamedFailures } from './failures';
import { printable, UsageError } from '../errors';

/**
 * The store's records as a directory of human-readable JSON files (the CLI's default):
 *
 *   loadbalancers/<lb>/state.json             rules' state, versioned
 *   loadbalancers/<lb>/events/<seq>.json      the audit trail, one file per event, never rewritten
 *   loadbalancers/<lb>/published/<id>.json    each event's receipt: published, or why it cannot be
 *   loadbalancers/<lb>/observations/<at>.json raw observations (pruned after the TTL)
 *   loadbalancers/<lb>/prewarm/<id>.json      pre-warm targets
 *   outbox/<id>.json                          events not yet published, versioned (claims, backoff)
 *
 * Ids are the ledger's, as given (shared/ledger/keys.ts: padded where they must sort);
 * a file's name is its id, with the colons of a time made dashes.
 *
 * A versioned record is a JSON object with its `version` beside the value's own
 * fields. Conditional writes run under a lock file naming its holder's process, so
 * two `watch` processes on one directory are settled as DynamoDB's conditional
 * writes settle them on AWS, and a lock left by a killed process is broken at once.
 */
export class LocalRecords implements Records {
  readonly description: string;

  constructor(readonly dir: string) {
    this.description = `local store ${dir}`;
  }

  /** Where a record lives, for messages (a failed write's error names no file). */
  locate(key: RecordKey): string {
    return this.file(key);
  }

  /** A key's file. */
  private file(key: RecordKey): string {
    if (key.kind === 'outbox') return join(this.dir, 'outbox', `${key.id}.json`);
    const lbDir = join(this.dir, 'loadbalancers', safeName(key.lb ?? ''));
    return key.kind === 'state'
      ? join(lbDir, 'state.json')
      : join(lbDir, KIND_DIRS[key.kind], `${fileId(key.kind, key.id)}.json`);
  }

  async get(key: RecordKey): Promise<ReadRecord | null> {
    const file = this.file(key);
    const text = await readOptional(file);
    return text === null ? null : readRecord(key, text, file);
  }

  async putIfVersion(key: RecordKey, value: unknown, expectedVersion: number): Promise<boolean> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    return withLock(`${file}.lock`, async () => {
      if ((await this.versionAt(key)) !== expectedVersion) return false;
      await writeAtomic(file, encode(key.kind, value, expectedVersion + 1));
      return true;
    });
  }

  /** The stored version (0: none); a record that does not parse has none a writer could expect. */
  private async versionAt(key: RecordKey): Promise<number> {
    try {
      return (await this.get(key))?.version ?? 0;
    } catch (err) {
      if (err instanceof StoreRecordCorruptError) return -1;
      throw err;
    }
  }

  async putIfAbsent(key: RecordKey, value: unknown): Promise<boolean> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    try {
      await createAtomic(file, encode(key.kind, value, 1));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async put(key: RecordKey, value: unknown, _options?: WriteOptions): Promise<void> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    await writeAtomic(file, encode(key.kind, value, 1));
  }

  async query(
    kind: RecordKind,
    lb: string | null,
    range: { from?: string; to?: string } = {},
    corrupt?: (bad: CorruptRecord) => void,
  ): Promise<ReadRecord[]> {
    const dir = dirname(this.file({ kind, lb, id: '0' }));
    const from = range.from === undefined ? undefined : `${fileId(kind, range.from)}.json`;
    const to = range.to === undefined ? undefined : `${fileId(kind, range.to)}.json`;
    const files = (await readdirOptional(dir))
      .filter((f) => f.endsWith('.json') && (!from || f >= from) && (!to || f <= to))
      .sort();
    const out: ReadRecord[] = [];
    for (const f of files) {
      const text = await readOptional(join(dir, f));
      if (text === null) continue; // taken away meanwhile (published, pruned)
      const id = idOfFile(kind, f.slice(0, -'.json'.length));
      try {
        out.push(readRecord({ kind, lb, id }, text, join(dir, f)));
      } catch (err) {
        if (!(err instanceof StoreRecordCorruptError) || !corrupt) throw err;
        corrupt({ id, location: err.location, reason: err.reason });
      }
    }
    return out;
  }

  async delete(key: RecordKey, expectedVersion?: number): Promise<boolean> {
    const file = this.file(key);
    const remove = async () => {
      await rm(file, { force: true });
      // Sidecars an earlier elbscope kept beside outbox entries (backoff, claim): they go with it.
      if (key.kind === 'outbox')
        for (const ext of ['retry', 'claim']) await rm(file.replace(/\.json$/, `.${ext}`), { force: true });
      return true;
    };
    if (expectedVersion === undefined) return remove();
    return withLock(`${file}.lock`, async () => ((await this.versionAt(key)) === expectedVersion ? remove() : false));
  }

  async quarantine(key: RecordKey, at: Date): Promise<string> {
    const file = this.file(key);
    const movedTo = `${file}.corrupt-${at.toISOString().replaceAll(':', '-')}`;
    await rename(file, movedTo);
    return movedTo;
  }

  async loadBalancers(): Promise<string[]> {
    return (await readdirOptional(join(this.dir, 'loadbalancers'))).map(nameOfDir).sort();
  }

  /** No expiry of its own: the ledger prunes (`expire`). */
  readonly expiresOnItsOwn = false;

  async ids(kind: RecordKind, lb: string, options: { newest?: number } = {}): Promise<string[]> {
    const dir = dirname(this.file({ kind, lb, id: '0' }));
    const names = (await readdirOptional(dir)).filter((f) => f.endsWith('.json')).sort();
    return (options.newest === undefined ? names : names.slice(-options.newest)).map((f) =>
      idOfFile(kind, f.slice(0, -'.json'.length)),
    );
  }

  async expire(kind: RecordKind, lb: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) await rm(this.file({ kind, lb, id }), { force: true });
  }
}

/** The store as the CLI uses it: the ledger over a local directory. */
export function localStore(dir: string, options: LedgerOptions = {}): Ledger {
  // A full disk, too many open files, denied access: one named error of this store (shared/store/failures.ts).
  return new Ledger(withNamedFailures(new LocalRecords(dir)), options);
}

const KIND_DIRS: Record<Exclude<RecordKind, 'state' | 'outbox'>, string> = {
  event: 'events',
  receipt: 'published',
  observation: 'observations',
  prewarm: 'prewarm',
};

/** An id as a file name: times without colons (names keep the ids' order). */
function fileId(kind: RecordKind, id: string): string {
  return kind === 'observation' ? id.replaceAll(':', '-') : id;
}

/** A file name back to its id. */
function idOfFile(kind: RecordKind, name: string): string {
  return kind === 'observation' ? name.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3') : name;
}

/** A record's file content: the value, with its version beside its fields when the kind is versioned. */
function encode(kind: RecordKind, value: unknown, version: number): string {
  const body = VERSIONED_KINDS.has(kind) ? { version, ...(value as Record<string, unknown>) } : value;
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** A file's text as a record (versioned kinds: the `version` field taken out of the value; none: 0). */
function readRecord(key: RecordKey, text: string, location: string): ReadRecord {
  const parsed = parseStored<unknown>(text, location);
  if (!VERSIONED_KINDS.has(key.kind) || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { id: key.id, value: parsed, version: 1, location, legacy: {} };
  const { version, ...value } = parsed as Record<string, unknown>;
  return { id: key.id, value, version: Number.isSafeInteger(version) ? (version as number) : 0, location, legacy: {} };
}

/**
 * Load balancer names become directory names: keep them to a safe alphabet, one directory per name. A name outside it
 * is escaped byte by byte (`_` and two hex digits; `_` and `.` too, so `.`/`..` never climb and `a/b` and `a_2Fb` never
 * share a directory); listings unescape it. One too long for a file name is refused by name.
 */
function safeName(lb: string): string {
  const name = /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(lb)
    ? lb
    : [...Buffer.from(lb, 'utf8')]
        .map((b) => (isKept(b) ? String.fromCharCode(b) : `_${b.toString(16).toUpperCase().padStart(2, '0')}`))
        .join('');
  if (name.length > MAX_DIR_NAME)
    throw new UsageError(
      `load balancer name of ${lb.length} characters (${printable(lb.slice(0, 40))}…) is too long for the local store (at most ${MAX_DIR_NAME} once escaped)`,
    );
  return name;
}

/** A directory name back to its load balancer's name (an escaped one unescaped; any other as it is). */
function nameOfDir(dir: string): string {
  if (!dir.includes('_') || !/^(?:[A-Za-z0-9-]|_[0-9A-F]{2})+$/.test(dir)) return dir;
  const bytes: number[] = [];
  for (let i = 0; i < dir.length; ) {
    if (dir[i] === '_') {
      bytes.push(Number.parseInt(dir.slice(i + 1, i + 3), 16));
      i += 3;
    } else bytes.push(dir.charCodeAt(i++));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Bytes an escaped name keeps as they are: letters, digits, hyphens. */
const isKept = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d;

/** The longest directory name (file systems allow 255 bytes). */
const MAX_DIR_NAME = 200;

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readdirOptional(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** A name for a temporary file beside `file`, unique to this write. */
const tmpName = (file: string) => `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

/** Replace `file` in one step: a crash or a full disk leaves the old content or the new, never half. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = tmpName(file);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Create `file` only if it does not exist, whole or not at all (EEXIST when it does). */
async function createAtomic(file: string, text: string): Promise<void> {
  const tmp = tmpName(file);
  try {
    await writeFile(tmp, text);
    await link(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** How long a waiter waits for a live holder before giving up (a conflict the caller retries). */
const LOCK_WAIT_ATTEMPTS = 400;

/**
 * Run `fn` holding the lock file `lock`, created whole (`pid nonce`). A lock whose
 * holder process is gone (killed mid-write) is broken at once, by one breaker at a
 * time (`<lock>.break`, itself naming its process), which unlinks it only if it
 * still holds the dead holder's nonce. All writers of a local store share one
 * machine (process ids are only meaningful there: a store on a network share is not
 * supported).
 */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await createAtomic(lock, mine);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readOptional(lock);
      if (holder !== null && !holderAlive(holder)) await breakLock(lock, holder);
      else if (attempt >= LOCK_WAIT_ATTEMPTS)
        throw new StoreConflictError(`${lock}: held by process ${holder?.split(' ')[0] ?? '?'} for too long`);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    // Only our own lock: a breaker may have judged us dead (we are not), and another may hold it now.
    if ((await readOptional(lock)) === mine) await unlink(lock).catch(() => undefined);
  }
}

/**
 * Whether a lock's holder (`pid nonce`) is a live process on this machine; content that names none is a holder killed
 * mid-write.
 */
function holderAlive(holder: string): boolean {
  const pid = Number(holder.split(' ')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Remove a dead holder's lock, one breaker at a time, and only if it is still that holder's. */
async function breakLock(lock: string, deadHolder: string): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await createAtomic(breaker, `${process.pid} ${randomBytes(8).toString('hex')}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await readOptional(breaker);
    // A breaker killed while breaking: its own mark goes (it held nothing else).
    if (other !== null && !holderAlive(other)) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    if ((await readOptional(lock)) === deadHolder) await unlink(lock).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}
