/**
 * When startRun fails, what it says about it keeps the run's secrets out: it logs through a logger
 * told the run's secret values (the function's own logger knows only the function's), and the error
 * it throws — which its callers log, and the schedule tick keeps on a fire's marker — is redacted.
 * The failure here is a store that echoes what it was given into its error, as a service's
 * validation message may; the assistant is never reached.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CloudAssistant } from '../../shared/cloud-assistant/port.ts';
import { loadCatalog } from '../../shared/config/catalog.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { startRun } from '../../shared/pipeline/start-run.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import type { PutOptions } from '../../shared/store/port.ts';
import { MemoryStore } from '../support/memory-store.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SEAL_KEY = 'a-seal-key-of-16-or-more';
const TOKEN = 'Pa55w0rd-start-run-1f2e';

/** A bucket that refuses the run's manifest, quoting the script's parameters back in its error. */
class EchoingStore extends MemoryStore {
  override async put(key: string, body: Buffer | string, options?: PutOptions): Promise<'written' | 'exists'> {
    if (key.endsWith('/manifest.json')) throw new Error(`InvalidArgument: the object is not accepted: ${TOKEN} is not allowed here`);
    return super.put(key, body, options);
  }
}

describe('Function: startRun, failing', () => {
  it('logs through a logger that knows the run\'s secrets, and throws the error redacted', async () => {
    const catalog = await loadCatalog(path.join(ROOT, 'local/demo/catalog.yaml'));
    const spec = buildRunSpec(catalog, { command: 'secret-probe', with: { token: TOKEN }, targets: { instanceIds: ['i-1'] }, requestedBy: { kind: 'cli' } }, SEAL_KEY);
    const lines: string[] = [];
    const unused = () => Promise.reject(new Error('the assistant was used'));
    const assistant = { runCommand: unused, describeInstances: unused, describeAgentStatus: unused } as unknown as CloudAssistant;

    const failed = await startRun(
      { runId: 'r-20261202t000000-secret1', ...spec, resolved: { runnable: ['i-1'], skipped: [] } },
      { assistant, store: new EchoingStore(), regionId: 'cn-hangzhou', sealKey: SEAL_KEY, chat: NO_CHAT, logger: createLogger({ sink: (l) => lines.push(l) }) },
    ).then(() => undefined, (e: unknown) => e as Error);

    expect(failed).toBeInstanceOf(Error);
    expect(failed!.message).toBe('InvalidArgument: the object is not accepted: *** is not allowed here');
    expect(lines.map((l) => JSON.parse(l) as { message: string; error?: string })).toEqual([
      expect.objectContaining({ level: 'error', message: 'run failed to start', runId: 'r-20261202t000000-secret1', error: 'InvalidArgument: the object is not accepted: *** is not allowed here' }),
    ]);
    expect(lines.join('\n')).not.toContain(TOKEN.slice(0, 8));
  });
});
