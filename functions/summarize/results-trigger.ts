/**
 * summarize's results-queue trigger as s.yaml declares it: `sourceMNSParameters.IsBase64Decode: true`,
 * so EventBridge hands over each message's text, not the base64 task-events sent. The envelope
 * reads bodies by this, and test/unit/envelope-mns-event-streaming.test.ts holds it to s.yaml.
 */
import type { MnsTriggerParameters } from '../../shared/runtime/envelopes/mns-event-streaming.ts';

export const RESULTS_QUEUE_TRIGGER: MnsTriggerParameters = { isBase64Decode: true };
