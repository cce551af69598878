import type { DebugProtocol } from '@vscode/debugprotocol';

/** The exception filters; their ids are what ReplayBreakpoints#setExceptionFilters accepts. */
const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  {
    filter: 'error',
    label: 'Error diagnostics',
    description: 'Stop at a packet or record that has an error diagnostic (or raises one while replayed)',
    default: true,
  },
  {
    filter: 'warning',
    label: 'Warning diagnostics',
    description: 'Stop at a packet or record that has a warning diagnostic',
    default: false,
  },
  {
    filter: 'filter',
    label: 'Packet matches filter',
    description: 'Stop at every multifd packet the filter expression (the packet list filter language) matches',
    default: false,
    supportsCondition: true,
    conditionDescription: 'A filter expression, e.g. zero > 100 && ramblock == "pc.ram"',
  },
];

/**
 * What the replay adapter tells the client it supports (the initialize response). There are no source lines
 * to break on: breakpoints are function breakpoints (pages, ramblocks, filter expressions), data breakpoints on
 * pages, and these exception filters.
 */
export const REPLAY_CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsFunctionBreakpoints: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsDataBreakpoints: true,
  supportsReadMemoryRequest: true,
  supportsStepBack: true,
  supportsSteppingGranularity: true,
  supportsExceptionInfoRequest: true,
  supportsExceptionFilterOptions: true,
  exceptionBreakpointFilters: EXCEPTION_FILTERS,
  supportsTerminateRequest: true,
  supportsEvaluateForHovers: false,
  supportsDelayedStackTraceLoading: false,
};
