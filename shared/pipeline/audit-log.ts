/**
 * Writing and reading the audit record (runs/audit.ts) in the runs bucket. Writers are chatops
 * (every run, stop and refusal it answers), dispatch (a run refused once its targets are
 * resolved), the summarizer that finishes a run, and the schedule's jobs step; it lives here, below
 * all of them, because the pipeline never imports chatops.
 *
 * An audit write never fails what it records: the command was answered or the run finished
 * whatever became of its record, so a failed write is logged (the event's kind and run, never its
 * contents) and the caller goes on. It is one PUT, created once.
 */
import { randomBytes } from 'node:crypto';
import { auditDayPrefix, auditJson, auditKey, AUDIT_PREFIX, parseAuditKey, parseAuditRecord, type AuditKeyInfo, type AuditRecord, type AuditRecordInput } from '../runs/audit.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

export interface AuditDeps {
  store: ObjectStore;
  logger: Logger;
}

/**
 * Appends one event. `secrets`: the request's secret values, redacted from every text of the
 * record in every form. Answers whether the record was written; never throws.
 */
export async function appendAudit(deps: AuditDeps, record: AuditRecordInput, secrets: Iterable<string> = []): Promise<'written' | 'failed'> {
  const runId = 'runId' in record ? record.runId : undefined;
  try {
    const body = auditJson(record, secrets);
    const key = auditKey(record, runId ?? randomBytes(6).toString('hex'));
    // Create-once: an event is never rewritten. The same run's same event in the same millisecond is a repeat of it.
    await deps.store.put(key, body, { contentType: 'application/json', forbidOverwrite: true });
    return 'written';
  } catch (e) {
    deps.logger.warn('audit record not written', { kind: record.kind, result: record.outcome.result, runId, error: (e as Error).message });
    return 'failed';
  }
}

export interface AuditWalk {
  /** Only events at or after this time. */
  since?: Date | undefined;
  /** Only events before this time. */
  until?: Date | undefined;
}

/** `audit/2026/` → 2026, `audit/2026/11/` → 11: the last number of a folder. */
function lastNumber(folder: string): number {
  return Number(/(\d+)\/$/.exec(folder)?.[1] ?? NaN);
}

async function foldersNewestFirst(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const f of store.folders(prefix)) if (/\/\d+\/$/.test(f)) found.push(f);
  return found.sort((a, b) => lastNumber(b) - lastNumber(a));
}

/**
 * Every audit event (its key's parts) newest first, from `until` back to `since`. Years, months and
 * days are found with folder listings, so the walk lists only days that have events however far
 * back they are; a day is listed whole (its keys sort by time) and given back newest first. Stop
 * iterating to stop listing.
 */
export async function* auditNewestFirst(store: ObjectStore, walk: AuditWalk = {}): AsyncIterable<AuditKeyInfo> {
  const since = walk.since?.getTime() ?? -Infinity;
  const until = walk.until?.getTime() ?? Infinity;
  const sinceDay = walk.since ? auditDayPrefix(walk.since) : '';
  const untilDay = walk.until ? auditDayPrefix(walk.until) : '\uffff';
  for (const year of await foldersNewestFirst(store, AUDIT_PREFIX)) {
    // A folder is skipped when every day in it is outside the window: compared as day prefixes.
    if (`${year}\uffff` < sinceDay || year > untilDay) continue;
    for (const month of await foldersNewestFirst(store, year)) {
      if (`${month}\uffff` < sinceDay || month > untilDay) continue;
      for (const day of await foldersNewestFirst(store, month)) {
        if (day < sinceDay || day > untilDay) continue;
        const events: AuditKeyInfo[] = [];
        for await (const o of store.list(day)) {
          const info = parseAuditKey(o.key);
          if (!info) continue;
          const t = Date.parse(info.at);
          if (t >= since && t < until) events.push(info);
        }
        events.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
        yield* events;
      }
    }
  }
}

/** A record by its key; undefined when it is gone or cannot be read. */
export async function readAuditRecord(store: ObjectStore, key: string): Promise<AuditRecord | undefined> {
  const body = await store.get(key);
  return body ? parseAuditRecord(body.toString('utf8')) : undefined;
}
