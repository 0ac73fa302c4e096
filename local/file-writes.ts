/**
 * Writing whole buffers and making creations durable, for the local services' logs (the MNS
 * journal, the OSS object log). A write may take fewer bytes than asked; these loop until all are in.
 */
import { writevSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Writes every byte of `buffers` at `position`. */
export async function writeFully(handle: FileHandle, buffers: readonly Uint8Array[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending as Uint8Array[], at);
    at += bytesWritten;
    pending = dropWritten(pending, bytesWritten);
  }
}

/**
 * Writes every byte of `buffers` at `position`, or at the file's end (`null`, for a file opened to
 * append), in place: for the few kilobytes a log record is, the thread pool's round trip costs more
 * than the write to the page cache.
 */
export function writeFullySync(fd: number, buffers: readonly Uint8Array[], position: number | null): void {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const written = at === null ? writevSync(fd, pending as Uint8Array[]) : writevSync(fd, pending as Uint8Array[], at);
    if (at !== null) at += written;
    pending = dropWritten(pending, written);
  }
}

/** What is left of `buffers` after the first `written` bytes. */
function dropWritten(buffers: readonly Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  const rest: Uint8Array[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}

/** Makes a create, rename or unlink in `dir` durable (Linux needs the directory itself synced). */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
