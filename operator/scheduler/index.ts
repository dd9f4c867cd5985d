// The scheduler's public surface: the pure step() state machine, its types and actions, and settleStep().
export { step, isReady } from './step.js';
export { settleStep, type Gatherers, type Settled } from './settle.js';
export type { Action, GatherRequest, EventType, Severity } from './actions.js';
export type * from './types.js';
export {
  selectStrategy,
  type HttpMatch,
  type RouteState,
  type Strategy,
  type StrategyMove,
} from './strategies/strategy.js';
export { canaryMaxWeight, nextCanaryWeight, TOTAL_WEIGHT } from './strategies/canary.js';
