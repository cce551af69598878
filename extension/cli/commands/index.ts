import type { CliCommand } from '../cliCommand';
import { inspectCommand } from './inspect';
import { packetsCommand } from './packets';

/** Every `mfd` subcommand; add one line per command. */
export const COMMANDS: CliCommand[] = [inspectCommand, packetsCommand];
