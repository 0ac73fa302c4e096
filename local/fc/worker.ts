/**
 * One function instance of the local FC host: a child process that loads the function's module
 * and answers invocations sent over IPC, calling the same exported handler FC would call with a
 * Buffer event and an FC-shaped context. Its own process, so it can crash or be killed alone.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

interface Invocation {
  id: number;
  event: string;
  context: Record<string, unknown>;
}

type Handler = (event: Buffer, context: Record<string, unknown>) => unknown;

// The process started with the host's TMPDIR so tsx shares the host's transform cache; from here
// on the function's temporary folder is its instance's own (instance-process.ts).
if (process.env.FLEETRUN_FC_TMPDIR) process.env.TMPDIR = process.env.FLEETRUN_FC_TMPDIR;
delete process.env.FLEETRUN_FC_TMPDIR;

const modulePath = process.env.FLEETRUN_FC_MODULE;
const exportName = process.env.FLEETRUN_FC_EXPORT ?? 'handler';
if (!modulePath || !process.send) {
  console.error('worker.ts runs only as the local FC host child');
  process.exit(2);
}

async function load(): Promise<Handler> {
  // A bundle is CommonJS (what FC loads); a source module is ESM TypeScript run through tsx.
  const mod = modulePath!.endsWith('.js')
    ? (createRequire(import.meta.url)(modulePath!) as Record<string, unknown>)
    : ((await import(pathToFileURL(modulePath!).href)) as Record<string, unknown>);
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function "${exportName}"`);
  return handler as Handler;
}

const ready = load();
ready.then(
  () => process.send!({ type: 'ready' }),
  (e: unknown) => {
    process.send!({ type: 'init-error', error: { name: (e as Error).name, message: (e as Error).message } });
    setTimeout(() => process.exit(1), 50);
  },
);

/** The instance's CPU time so far (user + system, µs), reported with each answer for the host's accounting. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

process.on('message', (msg: Invocation) => {
  void (async () => {
    try {
      const handler = await ready;
      const result = await handler(Buffer.from(msg.event, 'base64'), msg.context);
      process.send!({ type: 'result', id: msg.id, ok: true, result: result === undefined ? null : result, cpuUs: cpuUs() });
    } catch (e) {
      const err = e as Error;
      process.send!({ type: 'result', id: msg.id, ok: false, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack }, cpuUs: cpuUs() });
    }
  })();
});

// The host is gone (killed, crashed): an instance without its host has nobody to answer.
process.on('disconnect', () => process.exit(0));
