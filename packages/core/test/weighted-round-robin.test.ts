import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPriorityPicker,
  createWeightedRoundRobinPicker,
  type Picker,
  type PickerInstance,
} from '../src/balancer/picker.js';

const none: ReadonlySet<string> = new Set();

function pickMany(picker: Picker, count: number, tried: ReadonlySet<string> = none): (string | undefined)[] {
  return Array.from({ length: count }, () => picker.pick({ tried }));
}

function tally(names: readonly (string | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[String(name)] = (counts[String(name)] ?? 0) + 1;
  return counts;
}

/** A random() that returns the given value, so the start position is chosen by the test. */
const fixed = (value: number) => () => value;

describe('createWeightedRoundRobinPicker (ai-proxy-multi.md §2.3)', () => {
  const fourToOne: PickerInstance[] = [
    { name: 'heavy', weight: 4 },
    { name: 'light', weight: 1 },
  ];

  it('gives exactly 8/2 over 10 picks for weights 4:1, from every start position', () => {
    for (const start of [0, 0.5, 0.999]) {
      const picker = createWeightedRoundRobinPicker(fourToOne, { random: fixed(start) });
      assert.deepEqual(tally(pickMany(picker, 10)), { heavy: 8, light: 2 }, `start ${start}`);
    }
  });

  it('interleaves by threshold, not smoothly (LVS order)', () => {
    // random 0 → last = 0: the scan resumes after index 0, threshold starts at the max weight 4.
    const picker = createWeightedRoundRobinPicker(fourToOne, { random: fixed(0) });
    assert.deepEqual(pickMany(picker, 10), [
      'heavy',
      'heavy',
      'heavy',
      'light',
      'heavy',
      'heavy',
      'heavy',
      'heavy',
      'light',
      'heavy',
    ]);
  });

  it('steps the threshold by the gcd of the weights', () => {
    const picker = createWeightedRoundRobinPicker(
      [
        { name: 'a', weight: 2 },
        { name: 'b', weight: 4 },
      ],
      { random: fixed(0) },
    );
    assert.deepEqual(pickMany(picker, 6), ['b', 'a', 'b', 'b', 'a', 'b']);
  });

  it('picks the start position from the injected random', () => {
    const instances = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ];
    const firstPicks = [0, 0.4, 0.8].map((start) =>
      createWeightedRoundRobinPicker(instances, { random: fixed(start) }).pick({ tried: none }),
    );
    assert.deepEqual(firstPicks, ['b', 'c', 'a']);
  });

  it('always picks a single instance, whatever its weight', () => {
    for (const weight of [0, 1, 7]) {
      const picker = createWeightedRoundRobinPicker([{ name: 'only', weight }], { random: Math.random });
      assert.deepEqual(pickMany(picker, 5), ['only', 'only', 'only', 'only', 'only']);
    }
  });

  it('treats all-zero weights as plain round robin', () => {
    const picker = createWeightedRoundRobinPicker(
      [
        { name: 'a', weight: 0 },
        { name: 'b', weight: 0 },
        { name: 'c', weight: 0 },
      ],
      { random: fixed(0.999) },
    );
    assert.deepEqual(pickMany(picker, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('never picks a zero-weight instance next to positive weights', () => {
    const picker = createWeightedRoundRobinPicker(
      [
        { name: 'zero', weight: 0 },
        { name: 'two', weight: 2 },
        { name: 'one', weight: 1 },
      ],
      { random: fixed(0.3) },
    );
    assert.deepEqual(tally(pickMany(picker, 30)), { two: 20, one: 10 });
  });

  it('never returns a tried instance', () => {
    const picker = createWeightedRoundRobinPicker(fourToOne, { random: fixed(0) });
    assert.deepEqual(pickMany(picker, 5, new Set(['heavy'])), ['light', 'light', 'light', 'light', 'light']);
    assert.deepEqual(pickMany(picker, 5, new Set(['light'])), ['heavy', 'heavy', 'heavy', 'heavy', 'heavy']);
  });

  it('returns undefined when every pickable instance was tried', () => {
    const table: { name: string; instances: PickerInstance[]; tried: string[] }[] = [
      { name: 'all of two tried', instances: fourToOne, tried: ['heavy', 'light'] },
      { name: 'single tried', instances: [{ name: 'only', weight: 0 }], tried: ['only'] },
      {
        name: 'all-zero tried',
        instances: [
          { name: 'a', weight: 0 },
          { name: 'b', weight: 0 },
        ],
        tried: ['a', 'b'],
      },
      {
        name: 'positive tried, zero left',
        instances: [
          { name: 'zero', weight: 0 },
          { name: 'one', weight: 1 },
        ],
        tried: ['one'],
      },
      { name: 'no instances', instances: [], tried: [] },
    ];
    for (const row of table) {
      const picker = createWeightedRoundRobinPicker(row.instances, { random: Math.random });
      assert.equal(picker.pick({ tried: new Set(row.tried) }), undefined, row.name);
    }
  });

  it('keeps the 8/2 split for the requests that follow a retry', () => {
    const picker = createWeightedRoundRobinPicker(fourToOne, { random: fixed(0.5) });
    const firstTry = picker.pick({ tried: none });
    assert.ok(firstTry !== undefined);
    const retry = picker.pick({ tried: new Set([firstTry]) });
    assert.notEqual(retry, firstTry);
    assert.ok(retry !== undefined);
  });
});

describe('createPriorityPicker (ai-proxy-multi.md §2.2)', () => {
  const tiers = [
    { name: 'backup', weight: 1, priority: 0 },
    { name: 'main-a', weight: 1, priority: 10 },
    { name: 'main-b', weight: 1, priority: 10 },
    { name: 'last', weight: 1, priority: -5 },
  ];
  const build = () => createPriorityPicker(tiers, (tier) => createWeightedRoundRobinPicker(tier, { random: fixed(0) }));

  it('uses only the highest tier while it has untried instances', () => {
    assert.deepEqual(tally(pickMany(build(), 10)), { 'main-a': 5, 'main-b': 5 });
  });

  it('moves down one tier at a time as instances are tried', () => {
    const picker = build();
    assert.equal(picker.pick({ tried: new Set(['main-a', 'main-b']) }), 'backup');
    assert.equal(picker.pick({ tried: new Set(['main-a', 'main-b', 'backup']) }), 'last');
    assert.equal(picker.pick({ tried: new Set(['main-a', 'main-b', 'backup', 'last']) }), undefined);
  });
});
