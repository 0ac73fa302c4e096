/**
 * An append-only JSON-lines log with group commit: every record is on disk (written, and fdatasync'd
 * unless `fsync: false`) before its `append()` promise resolves, and all records that arrive while one
 * flush is in progress share the next flush, so a burst of requests costs a handful of syncs rather
 * than one each.
 *
 * The log is rewritten from a snapshot (write a temporary file, sync it, rename it over the log, sync
 * the directory) when it has grown well past the live state, and whenever it is opened.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeFullySync } from '../file-writes.ts';

/** What {@link readJournal} found in a log file. */
export interface JournalContents {
  /** Parsed records in file order. */
  records: unknown[];
  /** Lines that were not JSON: a torn tail after a crash, or damage. They are dropped. */
  badLines: number;
}

/** Reads a log; a missing file reads as empty. */
export async function readJournal(file: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: 0 };
    throw e;
  }
  const records: unknown[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}

/** Writes a whole file so that, after a crash, either the old or the new content is there, never a mix. */
export async function writeFileDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(path.dirname(file));
}

/** How a {@link Journal} learns the state it compacts to, and when to do it. */
export interface JournalOptions {
  /**
   * The complete current state as records, read synchronously. It may already include changes whose
   * records are still queued; those records are appended after the snapshot, so replaying records
   * must be idempotent (each one sets absolute values).
   */
  snapshot: () => Iterable<object>;
  /** Whether a log of this many lines should be compacted now. */
  shouldCompact: (lines: number) => boolean;
  /** Where compaction and write failures are reported. */
  log?: (line: string) => void;
  /** fdatasync each batch before resolving its appends (default true); without, records survive a crash of the process, not of the machine. */
  fsync?: boolean;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A durable, compacting append-only log file. Create one with {@link Journal.create}. */
export class Journal {
  readonly file: string;
  readonly #options: JournalOptions;
  #fh: FileHandle;
  #lines: number;
  #pending: Pending[] = [];
  #draining = false;
  #idle: (() => void)[] = [];
  #failure: Error | undefined;
  #closed = false;
  /** After a failed compaction, do not try again until the log has grown this far. */
  #compactFloor = 0;

  private constructor(file: string, fh: FileHandle, lines: number, options: JournalOptions) {
    this.file = file;
    this.#fh = fh;
    this.#lines = lines;
    this.#options = options;
  }

  /** Replaces whatever log is at `file` with `options.snapshot()` and opens it for appending. */
  static async create(file: string, options: JournalOptions): Promise<Journal> {
    const { text, lines } = serialise(options.snapshot());
    await writeFileDurably(file, text);
    return new Journal(file, await open(file, 'a'), lines, options);
  }

  /** Lines currently in the log file. */
  get lines(): number {
    return this.#lines;
  }

  /**
   * Queues a record; resolves once it is on disk.
   * @throws Error if the journal is closed or a previous write failed (the log may then be behind memory)
   */
  append(record: object): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`journal ${this.file} is closed`));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Started after the current task: the records one request makes share one write.
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  /** Waits for queued records, then closes the file. Later appends are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#draining) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#fh.close().catch(() => {});
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.#failure) {
        const batch = this.#pending.splice(0);
        try {
          writeFullySync(this.#fh.fd, [Buffer.from(batch.map((p) => p.line).join(''), 'utf8')], null);
          if (this.#options.fsync !== false) await this.#fh.datasync();
        } catch (e) {
          this.#fail(e as Error, batch);
          return;
        }
        this.#lines += batch.length;
        for (const p of batch) p.resolve();
        if (this.#lines >= this.#compactFloor && this.#options.shouldCompact(this.#lines)) await this.#compact();
      }
    } finally {
      // Cleared in the same synchronous step as the loop's last check, so an append() arriving now
      // either was seen by the loop or starts a new drain.
      this.#draining = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #compact(): Promise<void> {
    // Taken synchronously: the snapshot and the position in the record stream are consistent.
    const { text, lines } = serialise(this.#options.snapshot());
    try {
      await writeFileDurably(this.file, text);
    } catch (e) {
      this.#compactFloor = this.#lines * 2;
      this.#options.log?.(`[mns] compaction of ${this.file} failed, keeping the log: ${(e as Error).message}`);
      return;
    }
    // The old handle now points at the replaced file; appending through it would lose records.
    await this.#fh.close().catch(() => {});
    try {
      this.#fh = await open(this.file, 'a');
    } catch (e) {
      this.#fail(e as Error, []);
      return;
    }
    this.#lines = lines;
    this.#compactFloor = 0;
  }

  #fail(e: Error, batch: Pending[]): void {
    this.#failure = new Error(`journal ${this.file} failed: ${e.message}`);
    this.#options.log?.(`[mns] ${this.#failure.message}; further writes to this queue are refused`);
    for (const p of [...batch, ...this.#pending.splice(0)]) p.reject(this.#failure);
  }
}

function serialise(records: Iterable<object>): { text: string; lines: number } {
  const parts: string[] = [];
  for (const r of records) parts.push(`${JSON.stringify(r)}\n`);
  return { text: parts.join(''), lines: parts.length };
}
