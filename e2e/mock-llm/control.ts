import type { ServerResponse } from 'node:http';
import { type RequestRecorder, recordedToJson } from './recorder.js';
import { isRecord, parseScenarioValue, ScenarioSyntaxError } from './scenario.js';
import type { ScenarioSchedule } from './scenario-schedule.js';
import type { StreamGate } from './stream-gate.js';

/** Paths under this prefix steer the mock and are never recorded. */
export const CONTROL_PREFIX = '/__mock/';

export interface ControlState {
  readonly schedule: ScenarioSchedule;
  readonly recorder: RequestRecorder;
  readonly gate: StreamGate;
}

/**
 * The control endpoints, for manual use and for processes that cannot call the JS handle:
 *   POST   /__mock/scenario  {"scenario": "status:500" | {kind,...}, "times"?: n}
 *   GET    /__mock/requests  → {"requests": [...]} (bodies as text)
 *   DELETE /__mock/requests
 *   POST   /__mock/release   {"count"?: n} releases gated-stream chunks
 */
export function handleControl(
  state: ControlState,
  method: string,
  path: string,
  bodyText: string,
  res: ServerResponse,
): void {
  let answer: ControlAnswer;
  try {
    answer = runControl(state, `${method} ${path.slice(CONTROL_PREFIX.length)}`, bodyText);
  } catch (error) {
    answer = { status: 400, body: { error: error instanceof Error ? error.message : String(error) } };
  }
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.body));
}

interface ControlAnswer {
  readonly status: number;
  readonly body: object;
}

const OK: ControlAnswer = { status: 200, body: { ok: true } };

function runControl(state: ControlState, action: string, bodyText: string): ControlAnswer {
  switch (action) {
    case 'POST scenario': {
      const body = parseBody(bodyText);
      const times = body.times;
      if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 0)) {
        throw new ScenarioSyntaxError('times must be a non-negative integer');
      }
      state.schedule.set(parseScenarioValue(body.scenario), times === undefined ? {} : { times });
      return OK;
    }
    case 'GET requests':
      return { status: 200, body: { requests: state.recorder.list().map(recordedToJson) } };
    case 'DELETE requests':
      state.recorder.clear();
      return OK;
    case 'POST release': {
      const count = bodyText === '' ? 1 : (parseBody(bodyText).count ?? 1);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
        throw new ScenarioSyntaxError('count must be a positive integer');
      }
      state.gate.release(count);
      return OK;
    }
    default:
      return { status: 404, body: { error: `unknown control endpoint ${action}` } };
  }
}

function parseBody(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ScenarioSyntaxError('control body must be JSON');
  }
  if (!isRecord(parsed)) throw new ScenarioSyntaxError('control body must be a JSON object');
  return parsed;
}
