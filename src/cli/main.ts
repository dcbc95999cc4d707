import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands';
import { EXIT, reportFatal } from './exit';
import { TOOL_VERSION } from '../core/version';

const program = new Command();
program
  .name('sclab')
  .description('Self-Correction Lab: baseline and self-correction rounds against language models, headless.')
  .version(TOOL_VERSION)
  .showHelpAfterError()
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes:
  ${EXIT.ok}  success (for run: completed)
  ${EXIT.invalid}  invalid input (validate found errors; bad flags; bad experiment or dataset)
  ${EXIT.failed}  the run or command failed (backend unreachable, auth refused, I/O error)
  ${EXIT.cancelled}  cancelled (SIGINT); the run folder can be resumed with --resume
`,
  );
registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // help and version exit 0; usage errors have already been printed by commander
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.invalid);
  }
  process.exit(reportFatal(err));
});
