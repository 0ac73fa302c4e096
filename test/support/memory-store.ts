import { createHash } from 'node:crypto';
import type { ChangedObject, ObjectStore, PutOptions, StoredObjectInfo } from '../../shared/store/port.ts';

/** An in-memory ObjectStore with the port's semantics (forbidOverwrite answers 'exists'); it can be told to fail puts. */
export class MemoryStore implements ObjectStore {
  readonly bucket = 'memory';
  readonly objects = new Map<string, Buffer>();
  failPuts: ((key: string) => boolean) | undefined;

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<'written' | 'exists'> {
    await Promise.resolve();
    if (this.failPuts?.(key)) throw new Error(`put ${key} failed`);
    if (options.forbidOverwrite && this.objects.has(key)) return 'exists';
    this.objects.set(key, Buffer.from(body));
    return 'written';
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.objects.get(key);
  }
  /** ETags as OSS gives a simple upload's: the body's MD5, upper-case hex in quotes. */
  async getIfChanged(key: string, etag: string | undefined): Promise<ChangedObject | undefined> {
    const body = this.objects.get(key);
    if (!body) return undefined;
    const tag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
    return tag === etag ? 'unchanged' : { body, etag: tag };
  }
  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    for (const [key, body] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1))) if (key.startsWith(prefix)) yield { key, size: body.length, lastModified: '' };
  }
  async *folders(prefix: string): AsyncIterable<string> {
    const found = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const at = key.indexOf('/', prefix.length);
      if (at >= 0) found.add(key.slice(0, at + 1));
    }
    yield* [...found].sort();
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
  signedUrl(key: string): string {
    return `memory://${key}`;
  }
}
