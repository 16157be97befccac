/**
 * The JSONPath subset `post_arg.<path>` supports (admin-api.md §6.4): dotted names, `[n]` indexes
 * and `[*]` wildcards, e.g. `model` or `messages[*].content[*].type`.
 * Without a wildcard the single value (or undefined) is returned; with one, the array of every
 * value found (undefined when none), which is what the `has` operator expects.
 *
 * @example readJsonPath({ messages: [{ role: 'user' }] }, 'messages[*].role') // → ['user']
 */
export function readJsonPath(document: unknown, path: string): unknown {
  const steps = parseSteps(path);
  if (steps === undefined) return undefined;
  let current: unknown[] = [document];
  let wildcard = false;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) collectStep(value, step, next);
    if (step === WILDCARD) wildcard = true;
    current = next;
    if (current.length === 0) return undefined;
  }
  return wildcard ? current : current[0];
}

const WILDCARD = Symbol('wildcard');
type Step = string | number | typeof WILDCARD;

function collectStep(value: unknown, step: Step, into: unknown[]): void {
  if (typeof value !== 'object' || value === null) return;
  if (step === WILDCARD) {
    for (const element of Array.isArray(value) ? value : Object.values(value)) into.push(element);
    return;
  }
  if (typeof step === 'number') {
    if (Array.isArray(value) && step < value.length) into.push(value[step]);
    return;
  }
  if (!Array.isArray(value) && Object.hasOwn(value, step)) into.push((value as Record<string, unknown>)[step]);
}

/** Splits `a.b[0][*].c` into steps; undefined for syntax outside the subset. */
function parseSteps(path: string): Step[] | undefined {
  const steps: Step[] = [];
  const pattern = /([^.[\]]+)|\[(\d+|\*)\]|(\.)/gy;
  let expectName = true;
  while (pattern.lastIndex < path.length) {
    const match = pattern.exec(path);
    if (match === null) return undefined;
    if (match[1] !== undefined) {
      if (!expectName) return undefined;
      steps.push(match[1]);
      expectName = false;
    } else if (match[2] !== undefined) {
      steps.push(match[2] === '*' ? WILDCARD : Number(match[2]));
      expectName = false;
    } else {
      if (expectName) return undefined;
      expectName = true;
    }
  }
  if (pattern.lastIndex !== path.length || expectName || steps.length === 0) return undefined;
  return steps;
}
