/**
 * The FC 3.0 SDK and its runtime, behind one module. The deployment build emits this module as a
 * file of its own beside the chatops bundle (scripts/build.ts), so chatops parses the ~2 MB SDK
 * (its request models are most of it) only when it first hands a run to dispatch, not at every
 * cold start.
 */
import * as fc3 from '@alicloud/fc20230330';
import * as core from '@alicloud/openapi-core';
import * as dara from '@darabonba/typescript';

export { fc3, core, dara };
