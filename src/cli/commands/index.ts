import type { Command } from 'commander';
import { registerEngineCommand } from './engine';
import { registerCompareCommand } from './compare';
import { registerDemoCommand } from './demo';
import { registerProbeCommand } from './probe';
import { registerReportCommand } from './report';
import { registerRunCommand } from './run';
import { registerScorerCommand } from './scorer';
import { registerServeCommand } from './serve';
import { registerValidateCommand } from './validate';
import { registerViewCommand } from './view';

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerRunCommand(program);
  registerValidateCommand(program);
  registerReportCommand(program);
  registerCompareCommand(program);
  registerDemoCommand(program);
  registerEngineCommand(program);
  registerProbeCommand(program);
  registerScorerCommand(program);
  registerServeCommand(program);
  registerViewCommand(program);
}
