import type { IncomingHttpHeaders } from 'node:http';
import type { QueueStore } from '../queue-store.ts';
import type { XmlDocument, XmlOut } from '../xml.ts';

/** One authenticated request, routed to an action. */
export interface ActionRequest {
  /** The queue named in the path; `''` for ListQueue. Already checked to be a valid name. */
  queueName: string;
  /** Query parameters, decoded, keyed by their LOWER-CASE name (the SDK mixes `ReceiptHandle` and `receiptHandle`). */
  query: Readonly<Record<string, string>>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as XML (cached); throws `MalformedXML`. */
  xml(): XmlDocument;
  /** Aborted when the client hangs up or the emulator closes; long polls stop on it. */
  signal: AbortSignal;
  /** `http://<Host header>`, for Location and QueueURL values the client can use. */
  baseUrl: string;
}

/** What the action answers: a status, optionally an XML document and extra headers. */
export interface ActionResult {
  status: number;
  xml?: { root: string; content: { [name: string]: XmlOut | undefined } };
  headers?: Record<string, string>;
}

/** What actions share. */
export interface ActionContext {
  store: QueueStore;
}

/** One MNS operation. Errors are thrown as `MnsError`. */
export type Action = (req: ActionRequest, ctx: ActionContext) => Promise<ActionResult>;
