import { MnsError } from '../errors.ts';
import { queueUrl, queueXml } from './shared.ts';
import type { Action } from './types.ts';
import type { XmlOut } from '../xml.ts';

/**
 * ListQueue: `GET /queues`, paged by headers: `x-mns-prefix`, `x-mns-marker` (a previous NextMarker),
 * `x-mns-ret-number` (1–1000, default 1000); `x-mns-with-meta: true` adds each queue's attributes.
 * The marker is simply the next queue name.
 */
export const listQueue: Action = async (req, { store }) => {
  const limitText = header(req, 'x-mns-ret-number');
  let limit = 1000;
  if (limitText !== undefined && limitText !== '') {
    limit = /^\d{1,10}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= 1000)) throw new MnsError('InvalidArgument', 'x-mns-ret-number should be between 1 and 1000.');
  }
  const withMeta = header(req, 'x-mns-with-meta')?.toLowerCase() === 'true';
  const page = store.listQueues({ prefix: header(req, 'x-mns-prefix') ?? '', marker: header(req, 'x-mns-marker') ?? '', limit });
  const queues: XmlOut[] = [];
  for (const name of page.names) {
    const entry: { [k: string]: XmlOut | undefined } = { QueueURL: queueUrl(req.baseUrl, name) };
    if (withMeta) {
      try {
        Object.assign(entry, queueXml(await store.getQueueAttributes(name)));
      } catch (e) {
        // Deleted while the page was being built: leave it out rather than fail the listing.
        if (e instanceof MnsError && e.code === 'QueueNotExist') continue;
        throw e;
      }
    }
    queues.push(entry);
  }
  return { status: 200, xml: { root: 'Queues', content: { Queue: queues.length > 0 ? queues : undefined, NextMarker: page.nextMarker } } };
};

function header(req: Parameters<Action>[0], name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
