/** `fleetrun <command>`: the command line's entry. */
import { UsageError } from './access-keys.ts';
import { chatCommand } from './chat-command.ts';
import { doctorCommand } from './doctor-command.ts';
import { closeOnSignals, LOCAL_HELP, parseLocalArgs, startFromOptions } from './local-command.ts';
import { reportCommand } from './report-command.ts';
import { runsCommand } from './runs-command.ts';

const HELP = `Usage: fleetrun <command> [options]

Commands:
  local     run the local cloud (ECS, OSS, MNS, EventBridge, the FC host with s.yaml) on 127.0.0.1
  chat      send a signed chat command to the running local cloud and follow its progress
  runs      the last runs from the audit record: who asked, what, on which targets, how it ended
  report    where to open a run's report
  doctor    before 's deploy': check s.yaml, each function's environment and the role's policy

Run 'fleetrun <command> --help' for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'local': {
        const options = parseLocalArgs(rest);
        if (options === 'help') return (console.log(LOCAL_HELP), 0);
        await closeOnSignals(await startFromOptions(options));
        return 0;
      }
      case 'chat':
        return await chatCommand(rest);
      case 'runs':
        return await runsCommand(rest);
      case 'report':
        return await reportCommand(rest);
      case 'doctor':
        return doctorCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? 2 : 0;
      default:
        console.error(`fleetrun: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`fleetrun: ${(e as Error).message}`);
      return 2;
    }
    console.error(`fleetrun: ${(e as Error).message}`);
    return 1;
  }
}
