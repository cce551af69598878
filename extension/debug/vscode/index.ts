export {
  registerDebugging,
  type DebuggingHooks,
  DEBUG_REPLAY_COMMAND,
  DECODE_AT_ADDRESS_COMMAND,
} from './registerDebugging';
