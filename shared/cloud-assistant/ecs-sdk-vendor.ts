/**
 * The ECS SDK and its runtime, behind one module. The deployment build emits this module as a file
 * of its own beside each bundle that needs it, so a function parses the ~6 MB SDK only when it
 * first calls ECS, not at every cold start.
 */
import * as ecs from '@alicloud/ecs20140526';
import * as core from '@alicloud/openapi-core';

export { ecs, core };
