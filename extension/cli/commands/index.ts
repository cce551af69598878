import type { CliCommand } from '../cliCommand';
import { devicesCommand } from './devices';
import { diffCommand } from './diff';
import { explainCommand } from './explain';
import { extractCommand } from './extract';
import { inspectCommand } from './inspect';
import { packetsCommand } from './packets';
import { recordCommand } from './record';
import { replayCommand } from './replay';
import { sectionsCommand } from './sections';
import { sendCommand } from './send';
import { statsCommand } from './stats';

/** Every `mfd` subcommand; add one line per command. */
export const COMMANDS: CliCommand[] = [
  inspectCommand,
  packetsCommand,
  replayCommand,
  recordCommand,
  sendCommand,
  explainCommand,
  sectionsCommand,
  devicesCommand,
  extractCommand,
  statsCommand,
  diffCommand,
];
