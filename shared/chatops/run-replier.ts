/**
 * The ChatReplier on a ChatSender: the final summary, progress as instances finish — at most one
 * progress message per run in each interval, however many summarizers are folding at once (the
 * interval's marker object is created once) — and the "sent to N instances" notice as the fan-out ends.
 */
import type { ChatSender } from '../chat/types.ts';
import type { ChatReplier } from '../pipeline/finish-run.ts';
import { runKeys } from '../runs/keys.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { dispatchedMessage, finalMessage, progressMessage } from './messages.ts';
import type { ReportLinkFor } from './report-links.ts';

export function senderReplier(deps: { sender: ChatSender; store: ObjectStore; logger: Logger; intervalSeconds: number; reportLink?: ReportLinkFor; now?: () => Date }): ChatReplier {
  const now = deps.now ?? (() => new Date());
  return {
    ...(deps.reportLink ? { reportLink: deps.reportLink } : {}),
    async reply(manifest, summary, reportUrl) {
      const target = manifest.replyTo;
      if (!target) return;
      // The reply marker is already taken: throwing would not bring the reply back, only the batch.
      await deps.sender.send(target, finalMessage(summary, reportUrl)).catch((e: unknown) => deps.logger.error('final chat reply failed', { runId: manifest.runId, error: (e as Error).message }));
    },
    async dispatched(manifest) {
      if (manifest.replyTo) await deps.sender.send(manifest.replyTo, dispatchedMessage(manifest));
    },
    async progress(manifest, have, want) {
      const target = manifest.replyTo;
      if (!target || have === 0) return;
      const slot = Math.floor(now().getTime() / (deps.intervalSeconds * 1000));
      const first = await deps.store.put(`${runKeys.prefix(manifest.runId)}progress/${slot}`, String(have), { forbidOverwrite: true });
      if (first !== 'written') return;
      // Progress is best effort: a failed update must not send the batch back to the queue.
      await deps.sender.send(target, progressMessage(manifest, have, want)).catch((e: unknown) => deps.logger.warn('progress message failed', { runId: manifest.runId, error: (e as Error).message }));
    },
  };
}
