#!/usr/bin/env node
// fleetrun's command line. The sources are TypeScript; tsx compiles them as they load, so the
// command works straight from a checkout after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
