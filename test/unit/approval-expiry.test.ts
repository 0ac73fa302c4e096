/**
 * The schedule tick's approval step (chatops/approval-expiry.ts) on an in-memory store: it opens only
 * the runs due (the index sorts by expiry and the listing stops at the first not due), drops entries
 * it cannot read or whose request is gone, leaves a decision in time as it is, tells the thread of
 * an expiry once whoever recorded it, and a message the thread did not take is tried again on later
 * ticks (for an hour after the expiry) while nothing else is done twice. The same step on the
 * local cloud, through the schedule function: test/faults/approvals.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ReplyTarget } from '../../shared/chat/types.ts';
import { EXPIRY_MESSAGE_RETRY_MS, expireApprovals } from '../../shared/chatops/approval-expiry.ts';
import { AUDIT_PREFIX, parseAuditRecord } from '../../shared/runs/audit.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { MemoryStore } from '../support/memory-store.ts';

const NOW = new Date('2026-11-23T11:00:00.000Z');
const THREAD: ReplyTarget = { platform: 'webhook', callbackUrl: 'https://ci.example/thread' };

/** A run held for approval as approvals.ts records it, expiring at `expiresAt`. */
async function hold(store: MemoryStore, runId: string, expiresAt: string, replyTo: ReplyTarget | undefined = THREAD) {
  const dispatch = {
    version: 1, kind: 'run', runId, requester: { platform: 'webhook', userId: 'ci' },
    command: { name: 'uptime', type: 'RunShellScript', script: 'uptime', timeoutSeconds: 60 },
    targets: { tags: { env: 'demo' } }, requestedBy: { kind: 'chat', user: 'webhook:ci', channel: 'C1' }, ...(replyTo ? { replyTo } : {}),
  };
  await store.put(runKeys.approvalWaiting(expiresAt, runId), '');
  await store.put(runKeys.approvalRequest(runId), JSON.stringify({
    version: 1, requester: 'webhook:ci', approvers: [], expiresAt, scope: { command: 'uptime', script: false, targets: { tags: { env: 'demo' } } },
    describe: { command: 'uptime', targets: 'env=demo' }, dispatch,
  }));
}

function harness() {
  const store = new MemoryStore();
  const sent: { to: ReplyTarget; message: ChatMessage }[] = [];
  const lines: string[] = [];
  let failSends = false;
  const deps = {
    store,
    sender: { send: async (to: ReplyTarget, message: ChatMessage) => { if (failSends) throw new Error('thread down'); sent.push({ to, message }); } },
    logger: createLogger({ sink: (l) => lines.push(l) }),
    now: NOW,
  };
  const audit = () => [...store.objects].filter(([k]) => k.startsWith(AUDIT_PREFIX)).map(([, v]) => parseAuditRecord(v.toString('utf8')));
  return { store, sent, lines, deps, audit, failSendsNow: () => (failSends = true), sendsWorkAgain: () => (failSends = false) };
}

describe('expireApprovals', () => {
  it('expires each run due — decision, record, one message — and opens none not yet due', async () => {
    const h = harness();
    await hold(h.store, 'r-20261123t100000-aaaaaa', '2026-11-23T10:30:00.000Z');
    await hold(h.store, 'r-20261123t100000-bbbbbb', '2026-11-23T11:00:00.000Z');
    await hold(h.store, 'r-20261123t100000-cccccc', '2026-11-23T11:00:00.001Z');
    const opened: string[] = [];
    const get = h.store.get.bind(h.store);
    h.store.get = async (key) => (opened.push(key), get(key));

    expect(await expireApprovals(h.deps)).toEqual([
      { runId: 'r-20261123t100000-aaaaaa', state: 'expired' },
      { runId: 'r-20261123t100000-bbbbbb', state: 'expired' },
    ]);
    expect(opened.some((k) => k.includes('cccccc'))).toBe(false);
    expect(JSON.parse(h.store.objects.get(runKeys.approvalDecision('r-20261123t100000-aaaaaa'))!.toString())).toEqual({ decision: 'expired', at: NOW.toISOString() });
    expect(h.audit()).toEqual([
      expect.objectContaining({ kind: 'approval', runId: 'r-20261123t100000-aaaaaa', who: { kind: 'chat', user: 'webhook:ci', channel: 'C1' }, command: 'uptime', targets: { tags: { env: 'demo' } }, outcome: { result: 'expired' } }),
      expect.objectContaining({ runId: 'r-20261123t100000-bbbbbb', outcome: { result: 'expired' } }),
    ]);
    expect(h.sent.map((s) => [s.to, s.message.text])).toEqual([
      [THREAD, 'Run r-20261123t100000-aaaaaa expired unstarted at 2026-11-23T10:30:00.000Z: nobody approved uptime on env=demo in time. It will not start; ask for it again.'],
      [THREAD, 'Run r-20261123t100000-bbbbbb expired unstarted at 2026-11-23T11:00:00.000Z: nobody approved uptime on env=demo in time. It will not start; ask for it again.'],
    ]);
    expect([...h.store.objects.keys()].filter((k) => k.startsWith(runKeys.approvalWaitingPrefix))).toEqual([runKeys.approvalWaiting('2026-11-23T11:00:00.001Z', 'r-20261123t100000-cccccc')]);
    // Again: nothing due, nothing done.
    expect(await expireApprovals(h.deps)).toEqual([]);
    expect(h.sent).toHaveLength(2);
  });

  it('leaves a decision in time as it is, tells the thread of an expiry an approver found first, once, and drops entries it cannot use', async () => {
    const h = harness();
    await hold(h.store, 'r-20261123t100000-a99r0d', '2026-11-23T10:00:00.000Z');
    await h.store.put(runKeys.approvalDecision('r-20261123t100000-a99r0d'), JSON.stringify({ decision: 'approved', by: 'webhook:lead', at: '2026-11-23T09:59:00.000Z' }));
    await hold(h.store, 'r-20261123t100000-e0a11e', '2026-11-23T10:00:00.000Z');
    await h.store.put(runKeys.approvalDecision('r-20261123t100000-e0a11e'), JSON.stringify({ decision: 'expired', at: '2026-11-23T10:05:00.000Z' }));
    await h.store.put(runKeys.approvalWaiting('2026-11-23T10:00:00.000Z', 'r-20261123t100000-90e000'), '');
    await h.store.put(`${runKeys.approvalWaitingPrefix}garbage`, '');

    expect(await expireApprovals(h.deps)).toEqual([
      { runId: 'r-20261123t100000-90e000', state: 'gone' },
      { runId: 'r-20261123t100000-a99r0d', state: 'decided' },
      { runId: 'r-20261123t100000-e0a11e', state: 'decided' },
    ]);
    expect(JSON.parse(h.store.objects.get(runKeys.approvalDecision('r-20261123t100000-a99r0d'))!.toString())).toMatchObject({ decision: 'approved' });
    // The approver who found it expired wrote the record; the thread hears of it here.
    expect(h.audit()).toEqual([]);
    expect(h.sent.map((s) => s.message.text)).toEqual([expect.stringMatching(/^Run r-20261123t100000-e0a11e expired unstarted/)]);
    expect([...h.store.objects.keys()].filter((k) => k.startsWith(runKeys.approvalWaitingPrefix))).toEqual([]);
  });

  it('a message the thread did not take is logged and tried on the next tick until delivered, once; the decision and record stand, once', async () => {
    const h = harness();
    const runId = 'r-20261123t100000-5e0d00';
    await hold(h.store, runId, '2026-11-23T10:30:00.000Z');
    const waiting = () => [...h.store.objects.keys()].filter((k) => k.startsWith(runKeys.approvalWaitingPrefix));
    h.failSendsNow();
    expect(await expireApprovals(h.deps)).toEqual([{ runId, state: 'expired' }]);
    expect(h.audit()).toHaveLength(1);
    expect(h.lines.map((l) => JSON.parse(l) as { message: string })).toContainEqual(expect.objectContaining({ message: 'approval expiry reply failed', runId, retry: true }));
    // Kept for the next tick, with the claim to tell given back.
    expect(waiting()).toEqual([runKeys.approvalWaiting('2026-11-23T10:30:00.000Z', runId)]);
    expect(await expireApprovals(h.deps)).toEqual([{ runId, state: 'decided' }]);
    expect(h.sent).toEqual([]);

    h.sendsWorkAgain();
    expect(await expireApprovals(h.deps)).toEqual([{ runId, state: 'decided' }]);
    expect(h.sent.map((s) => s.message.text)).toEqual([expect.stringMatching(new RegExp(`^Run ${runId} expired unstarted`))]);
    expect(waiting()).toEqual([]);
    expect(await expireApprovals(h.deps)).toEqual([]);
    expect(h.sent).toHaveLength(1);
    expect(h.audit()).toHaveLength(1);
  });

  it('gives a message up an hour after the expiry: logged, the entry dropped, never sent later', async () => {
    const h = harness();
    const runId = 'r-20261123t090000-01d000';
    // Due an hour and a millisecond before this tick.
    await hold(h.store, runId, new Date(NOW.getTime() - EXPIRY_MESSAGE_RETRY_MS - 1).toISOString());
    h.failSendsNow();
    expect(await expireApprovals(h.deps)).toEqual([{ runId, state: 'expired' }]);
    expect(h.lines.map((l) => JSON.parse(l) as { message: string })).toContainEqual(expect.objectContaining({ message: 'approval expiry reply failed', runId, retry: false }));
    expect([...h.store.objects.keys()].filter((k) => k.startsWith(runKeys.approvalWaitingPrefix))).toEqual([]);
    h.sendsWorkAgain();
    expect(await expireApprovals(h.deps)).toEqual([]);
    expect(h.sent).toEqual([]);
  });
});
