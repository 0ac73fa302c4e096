import { describe, expect, it } from 'vitest';
import { replyOnce, type ChatReplier, type ReplyDeps } from '../../shared/pipeline/final-reply.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { SummaryBuilder } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { MemoryStore } from '../support/memory-store.ts';

const RUN_ID = 'r-20261123t100000-reply1';
const manifest = runManifestSchema.parse({
  version: 1, runId: RUN_ID, createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'cli' },
  command: { name: 'reply-check', type: 'RunShellScript', timeoutSeconds: 60 }, targets: [], output: { mode: 'fetch' },
});
const summary = new SummaryBuilder(manifest).build();

function setUp(options: { takeoverSeconds?: number; reply?: ChatReplier['reply'] } = {}) {
  const store = new MemoryStore();
  const sent: string[] = [];
  const deps: ReplyDeps = {
    store,
    chat: { reply: options.reply ?? (async (_m, _s, url) => void sent.push(url)) },
    logger: createLogger({ sink: () => {} }),
    ...(options.takeoverSeconds !== undefined ? { replyTakeoverSeconds: options.takeoverSeconds } : {}),
  };
  return { store, sent, deps };
}

describe('Function: replyOnce', () => {
  it('sends once however many finish the run at the same moment, then reports it confirmed', async () => {
    // Prepare
    const { store, sent, deps } = setUp();
    // Act
    const states = await Promise.all([replyOnce(manifest, summary, deps), replyOnce(manifest, summary, deps), replyOnce(manifest, summary, deps)]);
    // Assess
    expect(states.sort()).toEqual(['pending', 'pending', 'sent']);
    expect(sent).toEqual([`memory://${runKeys.report(RUN_ID)}`]);
    expect(store.objects.has(runKeys.replySent(RUN_ID))).toBe(true);
    expect(await replyOnce(manifest, summary, deps)).toBe('confirmed');
    expect(sent).toHaveLength(1);
  });

  it('leaves a fresh unconfirmed claim alone, and takes a stale one over with the next claim', async () => {
    // Prepare: a claim whose holder died before confirming.
    const { store, sent, deps } = setUp({ takeoverSeconds: 60 });
    await store.put(runKeys.replyClaim(RUN_ID, 0), new Date(Date.now() - 30_000).toISOString());
    // Act / Assess: still fresh.
    expect(await replyOnce(manifest, summary, deps)).toBe('pending');
    expect(sent).toEqual([]);
    // Act / Assess: gone stale.
    await store.put(runKeys.replyClaim(RUN_ID, 0), new Date(Date.now() - 61_000).toISOString());
    expect(await replyOnce(manifest, summary, deps)).toBe('sent');
    expect(sent).toHaveLength(1);
    expect([...store.objects.keys()].filter((k) => k.startsWith(runKeys.replyClaimsPrefix(RUN_ID))).sort()).toEqual([runKeys.replyClaim(RUN_ID, 0), runKeys.replyClaim(RUN_ID, 1)]);
  });

  it('counts a claim it cannot read as fresh: a late reply rather than two', async () => {
    const { store, sent, deps } = setUp({ takeoverSeconds: 1 });
    await store.put(runKeys.replyClaim(RUN_ID, 0), 'not a time');
    expect(await replyOnce(manifest, summary, deps)).toBe('pending');
    expect(sent).toEqual([]);
  });

  it('leaves a reply that failed unconfirmed, so it is taken over later', async () => {
    // Prepare
    const { store, deps } = setUp({ takeoverSeconds: 60, reply: async () => Promise.reject(new Error('platform down')) });
    // Act
    await expect(replyOnce(manifest, summary, deps)).rejects.toThrow('platform down');
    // Assess
    expect(store.objects.has(runKeys.replyClaim(RUN_ID, 0))).toBe(true);
    expect(store.objects.has(runKeys.replySent(RUN_ID))).toBe(false);
  });
});
