// The load tester's public surface: start it, and the types of what it runs.
export { startLoadTester } from './server.js';
export type { LoadTester, LoadTesterOptions } from './server.js';
export type { LoadSpec, LoadSummary } from './load.js';
export type { RunStatus } from './runs.js';
