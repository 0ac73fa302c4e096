/**
 * Billable OSS and MNS requests, counted from the local cloud's request log (one line per answered
 * request: `[oss] PutObject bucket/key 200 3ms`, `[mns] BatchSendMessage queue 201 2ms`), so the
 * emulators need no counter of their own. OSS bills PUT-type requests (uploads, deletes, listings)
 * and GET-type requests (reads, heads, bucket info) that were answered 2xx/3xx; MNS bills every
 * request. Sends are the functions'; receives and deletes are the event stream's (EventBridge
 * consuming the queue for summarize), counted apart because whether those are billed to the queue's
 * owner is not documented. A receive that found the queue empty is counted apart again: it is the
 * event stream polling an idle queue, which happens whether or not a run is going.
 */

/** The OSS operations OSS bills as PUT-type (ListObjects among them); the rest of what the local OSS serves is GET-type. */
const OSS_PUT_TYPE = new Set(['PutObject', 'CopyObject', 'AppendObject', 'DeleteObject', 'DeleteMultipleObjects', 'ListObjects', 'ListObjectsV2', 'PutBucket', 'DeleteBucket', 'PutBucketLifecycle', 'DeleteBucketLifecycle']);

const OSS_LINE = /^\[oss\] (\w+) (\S+?)\/\S* (\d{3})(?: [\w.]+)?(?: \(client went away\))? \d+ms$/;
const MNS_CONSUMING = /^(Batch)?(ReceiveMessage|DeleteMessage|PeekMessage)$|^ChangeMessageVisibility$/;
const MNS_LINE = /^\[mns\] (\w+) (\S+) (\d{3})(?: (\w+))? \d+ms$/;

export interface RequestCounts {
  /** Billed OSS requests by `Action bucket`. */
  oss: Record<string, number>;
  ossPut: number;
  ossGet: number;
  /** MNS requests by `Action queue`, empty receives left out. */
  mns: Record<string, number>;
  /** Requests the functions made (sends). */
  mnsRequests: number;
  /** Requests the event stream made consuming the queue (receives that found messages, deletes, visibility changes). */
  mnsStreamRequests: number;
  /** Receives that found nothing (MessageNotExist): the event stream's idle polling. */
  mnsEmptyReceives: number;
}

export function emptyCounts(): RequestCounts {
  return { oss: {}, ossPut: 0, ossGet: 0, mns: {}, mnsRequests: 0, mnsStreamRequests: 0, mnsEmptyReceives: 0 };
}

/** Adds one log line to `counts`; lines of other services and unbilled answers change nothing. */
export function countLine(counts: RequestCounts, line: string): void {
  const oss = OSS_LINE.exec(line);
  if (oss) {
    const [, action, bucket, status] = oss as unknown as [string, string, string, string];
    if (Number(status) >= 400) return;
    counts.oss[`${action} ${bucket}`] = (counts.oss[`${action} ${bucket}`] ?? 0) + 1;
    if (OSS_PUT_TYPE.has(action)) counts.ossPut++;
    else counts.ossGet++;
    return;
  }
  const mns = MNS_LINE.exec(line);
  if (mns) {
    const [, action, queue, , code] = mns as unknown as [string, string, string, string, string | undefined];
    if (code === 'MessageNotExist') {
      counts.mnsEmptyReceives++;
      return;
    }
    counts.mns[`${action} ${queue}`] = (counts.mns[`${action} ${queue}`] ?? 0) + 1;
    if (MNS_CONSUMING.test(action)) counts.mnsStreamRequests++;
    else counts.mnsRequests++;
  }
}

/** What was counted between two snapshots. */
export function countsBetween(before: RequestCounts, after: RequestCounts): RequestCounts {
  const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v !== 0));
  return {
    oss: diff(before.oss, after.oss),
    ossPut: after.ossPut - before.ossPut,
    ossGet: after.ossGet - before.ossGet,
    mns: diff(before.mns, after.mns),
    mnsRequests: after.mnsRequests - before.mnsRequests,
    mnsStreamRequests: after.mnsStreamRequests - before.mnsStreamRequests,
    mnsEmptyReceives: after.mnsEmptyReceives - before.mnsEmptyReceives,
  };
}

export function cloneCounts(c: RequestCounts): RequestCounts {
  return { ...c, oss: { ...c.oss }, mns: { ...c.mns } };
}
