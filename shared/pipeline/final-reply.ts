/**
 * A run's final reply: sent once however many summarizers finish the run at the same moment, and
 * not lost when the one sending it dies. A create-once claim picks the sender; a second marker
 * confirms the reply went out. A claim left unconfirmed for `replyTakeoverSeconds` — its holder was
 * killed, or the storage call that made the claim was cut after the claim landed — is taken over
 * by whoever finishes the run next: a redelivered result, or the reconciler's tick (the run stays
 * in the open index until the reply is confirmed). The one duplicate left possible is a reply that
 * went out just before its sender died without confirming it.
 */
import { DEFAULT_REPLY_TAKEOVER_SECONDS } from '../config/env.ts';
import { runKeys } from '../runs/keys.ts';
import type { RunManifest } from '../runs/manifest.ts';
import type { RunSummary } from '../runs/summary.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

/** Where a finished run's summary goes to people. */
export interface ChatReplier {
  reply(manifest: RunManifest, summary: RunSummary, reportUrl: string): Promise<void>;
  /** Instances finished so far; the replier decides how often to say so. */
  progress?(manifest: RunManifest, have: number, want: number): Promise<void>;
  /**
   * The fan-out has ended: what was sent, in how many calls, and what was set aside. Called once
   * per run (a create-once claim), before the final manifest is written, so before any final reply.
   */
  dispatched?(manifest: RunManifest): Promise<void>;
  /**
   * The link people open to see a run's report (fleetrun's signed chatops link: report-links.ts);
   * without one, a presigned OSS URL, which dies with the signer's STS token.
   */
  reportLink?(runId: string): string;
}
export const NO_CHAT: ChatReplier = { reply: async () => {} };

export interface ReplyDeps {
  store: ObjectStore;
  chat: ChatReplier;
  logger: Logger;
  /** How long a presigned report link stays valid, when the replier has no link of its own. */
  reportLinkSeconds?: number;
  /**
   * How long a claim may stay unconfirmed before another summarizer takes the reply over; longer
   * than any claimant lives (the summarize function's timeout), or a slow sender would be doubled.
   */
  replyTakeoverSeconds?: number;
}

/** 'sent' by this call, 'confirmed' earlier, or 'pending' while another's claim is fresh. */
export type ReplyState = 'sent' | 'confirmed' | 'pending';

export async function replyOnce(manifest: RunManifest, summary: RunSummary, deps: ReplyDeps): Promise<ReplyState> {
  const runId = manifest.runId;
  if (await deps.store.get(runKeys.replySent(runId))) return 'confirmed';
  const now = new Date();
  const generation = await nextClaim(runId, now, deps);
  if (generation === undefined) return 'pending';
  const claimed = (await deps.store.put(runKeys.replyClaim(runId, generation), now.toISOString(), { forbidOverwrite: true })) === 'written';
  if (!claimed) return 'pending';
  if (generation > 0) deps.logger.warn('final reply taken over from a claim never confirmed', { runId, generation });
  await deps.chat.reply(manifest, summary, deps.chat.reportLink?.(runId) ?? deps.store.signedUrl(runKeys.report(runId), deps.reportLinkSeconds ?? 7 * 24 * 3600));
  await deps.store.put(runKeys.replySent(runId), now.toISOString());
  return 'sent';
}

/** The claim to try: 0 when there is none yet, the next one when the latest went stale, undefined while it is fresh. */
async function nextClaim(runId: string, now: Date, deps: ReplyDeps): Promise<number | undefined> {
  const prefix = runKeys.replyClaimsPrefix(runId);
  let latest = -1;
  for await (const o of deps.store.list(prefix)) {
    const rest = o.key.slice(prefix.length);
    const generation = rest === '' ? 0 : /^\.(\d+)$/.test(rest) ? Number(rest.slice(1)) : -1;
    latest = Math.max(latest, generation);
  }
  if (latest < 0) return 0;
  const claimedAt = Date.parse((await deps.store.get(runKeys.replyClaim(runId, latest)))?.toString('utf8') ?? '');
  // A claim that cannot be read counts as fresh: better a late reply than two.
  const stale = Number.isFinite(claimedAt) && now.getTime() - claimedAt >= (deps.replyTakeoverSeconds ?? DEFAULT_REPLY_TAKEOVER_SECONDS) * 1000;
  return stale ? latest + 1 : undefined;
}
