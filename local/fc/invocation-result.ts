/**
 * What the HTTP trigger and the InvokeFunction API both need from an invocation: a result turned
 * into response bytes as FC turns a handler's return value into the invocation's answer, and
 * request ids in FC's own formats.
 * @see docs/platform-facts.md §5.1
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { randomHex } from '../random-hex.ts';

/** A Buffer after the trip over the worker's IPC channel (JSON serialisation). */
const ipcBufferSchema = z.object({ type: z.literal('Buffer'), data: z.array(z.number().int().min(0).max(255)) });

/** The result as a Buffer when it is bytes (a Buffer, or a Buffer that crossed IPC), else undefined. */
export function resultBytes(result: unknown): Buffer | undefined {
  if (Buffer.isBuffer(result)) return result;
  const ipc = ipcBufferSchema.safeParse(result);
  return ipc.success ? Buffer.from(ipc.data.data) : undefined;
}

/**
 * The body FC answers for a handler's return value: bytes as they are, an object as JSON, nothing
 * for undefined, anything else as String(x). Content types: FC's for strings is unconfirmed;
 * text/plain keeps `@alicloud/fc2` from JSON-parsing text that is not JSON.
 */
export function resultToBody(result: unknown): { body: Buffer; contentType?: string } {
  const bytes = resultBytes(result);
  if (bytes) return { body: bytes, contentType: 'application/octet-stream' };
  if (result === null || result === undefined) return { body: Buffer.alloc(0) };
  if (typeof result === 'object') return { body: Buffer.from(JSON.stringify(result)), contentType: 'application/json' };
  return { body: Buffer.from(String(result)), contentType: 'text/plain; charset=utf-8' };
}

/** An FC 3.0 request id: `1-<unix seconds, hex>-<8 hex>-<12 hex>`, the form HTTP trigger events carry. */
export function fc3RequestId(now = Date.now()): string {
  const hex = randomHex(10);
  return `1-${Math.floor(now / 1000).toString(16).padStart(8, '0')}-${hex.slice(0, 8)}-${hex.slice(8, 20)}`;
}

/** An FC 2.0 API request id (`x-fc-request-id`): a UUID. */
export function fc2RequestId(): string {
  return randomUUID();
}
