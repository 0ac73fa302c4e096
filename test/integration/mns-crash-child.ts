/**
 * Child process for the crash test in mns-durability.test.ts: runs a local MNS on the data folder
 * given as argv[2] and prints its endpoint as one JSON line, then serves until it is SIGKILLed —
 * so nothing gets a chance to flush or close.
 */
import { startMnsEmulator } from '../../local/mns/server.ts';

const [dataDir, accessKeyId, secret] = process.argv.slice(2);
if (!dataDir || !accessKeyId || !secret) throw new Error('usage: mns-crash-child.ts <dataDir> <accessKeyId> <secret>');
const emulator = await startMnsEmulator({
  dataDir,
  accessKeys: { [accessKeyId]: secret },
  queues: [{ name: 'crashy', attributes: { VisibilityTimeout: 2 } }],
});
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint, pid: process.pid })}\n`);
