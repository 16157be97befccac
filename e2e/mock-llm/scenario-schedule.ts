import { OK_SCENARIO, type Scenario } from './scenario.js';

/**
 * The server-wide scenario set through the control endpoint. With `times`, it applies to that many
 * requests and then the server goes back to `ok` (e.g. "fail the next two requests with 500").
 */
export interface ScenarioSchedule {
  set(scenario: Scenario, options?: { readonly times?: number }): void;
  /** The scenario for the next request that has no `x-mock-scenario` header; consumes one use. */
  take(): Scenario;
}

export function createScenarioSchedule(): ScenarioSchedule {
  let current: Scenario = OK_SCENARIO;
  let remaining: number | undefined;
  return {
    set(scenario, options) {
      current = scenario;
      remaining = options?.times;
      if (remaining === 0) current = OK_SCENARIO;
    },
    take() {
      const scenario = current;
      if (remaining !== undefined && --remaining <= 0) {
        current = OK_SCENARIO;
        remaining = undefined;
      }
      return scenario;
    },
  };
}
