import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIpMatcher } from '../src/expr/ip-matcher.js';
import { compileVarsExpression, type VarsContext } from '../src/expr/vars-expression.js';

function varsOf(values: Record<string, unknown>): VarsContext {
  return { get: (name) => values[name] };
}

/** [rule, compile error] — admin-api.md §6.4. */
const COMPILE_ERRORS: ReadonlyArray<readonly [unknown, string]> = [
  [[['arg_name', '=', 'json']], "invalid operator '='"],
  [['arg_name', '==', 'json'], 'rule should be wrapped inside brackets'],
  ['arg_name', 'rule should be wrapped inside brackets'],
  [['OR', ['arg_a', '==', '1']], 'rule too short'],
  [[[]], 'rule too short'],
  [[['arg_a']], 'invalid expression'],
  [[['arg_a', 'not', '==', '1']], "bad 'not' expression"],
  [[['remote_addr', 'ipmatch', []]], 'invalid ip address'],
  [[['remote_addr', 'ipmatch', '']], 'invalid ip address'],
  [[['remote_addr', 'ipmatch', ['10.0.0.0/33']]], 'invalid ip address: 10.0.0.0/33'],
  [[['post_arg.messages[', '==', 'x']], "invalid JSONPath in 'post_arg.messages['"],
];

describe('compileVarsExpression: compile errors', () => {
  for (const [rule, message] of COMPILE_ERRORS) {
    it(`${JSON.stringify(rule)} → ${message}`, () =>
      assert.deepEqual(compileVarsExpression(rule), { ok: false, message }));
  }
});

/** [rule, vars, expected] */
const EVALUATIONS: ReadonlyArray<readonly [unknown, Record<string, unknown>, boolean]> = [
  [[], {}, true],
  [[['arg_name', '==', 'json']], { arg_name: 'json' }, true],
  [[['arg_name', '==', 'json']], { arg_name: 'JSON' }, false],
  [[['arg_name', 'json']], { arg_name: 'json' }, true],
  [[['arg_age', '==', 18]], { arg_age: '18.0' }, true],
  [[['arg_age', '==', 18]], {}, false],
  [[['arg_age', '~=', 18]], { arg_age: 'x' }, true],
  [[['arg_name', '~=', 'a']], { arg_name: 'b' }, true],
  [[['arg_age', '>', 18]], { arg_age: '19' }, true],
  [[['arg_age', '>', 18]], { arg_age: 'nineteen' }, false],
  [[['arg_age', '>=', '0x12']], { arg_age: '18' }, true],
  [[['arg_age', '<', 18]], { arg_age: 17 }, true],
  [[['arg_age', '<=', 18]], { arg_age: 19 }, false],
  [[['http_x', '~~', '^ab+c$']], { http_x: 'abbc' }, true],
  [[['http_x', '~~', '^ab+c$']], { http_x: 'ABBC' }, false],
  [[['http_x', '~*', '^ab+c$']], { http_x: 'ABBC' }, true],
  [[['http_x', '~~', '(']], { http_x: '(' }, false],
  [[['arg_a', 'in', ['x', 'y']]], { arg_a: 'y' }, true],
  [[['arg_a', 'in', ['1']]], { arg_a: 1 }, false],
  [
    [['post_arg.messages[*].content[*].type', 'has', 'image_url']],
    { 'post_arg.messages[*].content[*].type': ['text', 'image_url'] },
    true,
  ],
  [[['remote_addr', 'ipmatch', ['10.0.0.0/8', '::1']]], { remote_addr: '10.9.8.7' }, true],
  [[['remote_addr', 'ipmatch', '10.0.0.0/8']], { remote_addr: '11.0.0.1' }, false],
  [[['arg_a', '!', '==', 'x']], { arg_a: 'y' }, true],
  [[['arg_a', '!', '==', 'x']], { arg_a: 'x' }, false],
  [
    [
      ['arg_a', '==', 'x'],
      ['arg_b', '==', 'y'],
    ],
    { arg_a: 'x', arg_b: 'z' },
    false,
  ],
  [['OR', ['http_x', '==', 'a'], ['http_x', '==', 'b']], { http_x: 'b' }, true],
  [['or', ['http_x', '==', 'a'], ['http_x', '==', 'b']], { http_x: 'c' }, false],
  [['!OR', ['http_x', '==', 'a'], ['http_x', '==', 'b']], { http_x: 'c' }, true],
  [['!AND', ['http_x', '==', 'a'], ['http_y', '==', 'b']], { http_x: 'a', http_y: 'b' }, false],
  [['AND', ['arg_a', '==', 'x'], ['OR', ['arg_b', '==', '1'], ['arg_b', '==', '2']]], { arg_a: 'x', arg_b: '2' }, true],
  [[['arg_missing', '==', null]], {}, true],
  [[['post_arg.model', '==', 'gpt-4']], { 'post_arg.model': 'gpt-4' }, true],
];

describe('compileVarsExpression: evaluation', () => {
  for (const [rule, vars, expected] of EVALUATIONS) {
    it(`${JSON.stringify(rule)} with ${JSON.stringify(vars)} → ${expected}`, () => {
      const compiled = compileVarsExpression(rule);
      assert.ok(compiled.ok);
      assert.equal(compiled.evaluate(varsOf(vars)), expected);
    });
  }

  it('reads variables through the context, by their verbatim names', () => {
    const asked: string[] = [];
    const compiled = compileVarsExpression([
      ['post_arg.model', '==', 'm'],
      ['http_x_api', '==', 'v'],
    ]);
    assert.ok(compiled.ok);
    compiled.evaluate({
      get: (name) => {
        asked.push(name);
        return name === 'post_arg.model' ? 'm' : 'v';
      },
    });
    assert.deepEqual(asked, ['post_arg.model', 'http_x_api']);
  });

  it('turns an evaluation error into false and reports it', () => {
    const compiled = compileVarsExpression([['arg_a', '==', 'x']]);
    assert.ok(compiled.ok);
    const failing: VarsContext = {
      get: () => {
        throw new Error('body too large');
      },
    };
    assert.equal(compiled.evaluate(failing), false);
    const reported: unknown[] = [];
    assert.equal(
      compiled.evaluate(failing, (error) => reported.push(error)),
      false,
    );
    assert.equal((reported[0] as Error).message, 'body too large');
  });
});

describe('createIpMatcher', () => {
  const built = createIpMatcher(['192.168.1.0/24', '10.0.0.1', 'fe80::/10', '2001:db8::1']);
  assert.ok(built.ok);
  const TABLE: ReadonlyArray<readonly [string, boolean]> = [
    ['192.168.1.200', true],
    ['192.168.2.1', false],
    ['10.0.0.1', true],
    ['10.0.0.2', false],
    ['fe80::abcd', true],
    ['2001:db8::1', true],
    ['2001:db8::2', false],
    ['::ffff:192.168.1.7', true],
    ['not an ip', false],
  ];
  for (const [address, expected] of TABLE) {
    it(`${address} → ${expected}`, () => assert.equal(built.matcher.matches(address), expected));
  }

  it('refuses invalid entries', () => {
    assert.deepEqual(createIpMatcher(['300.1.1.1']), { ok: false, message: 'invalid ip address: 300.1.1.1' });
    assert.deepEqual(createIpMatcher(['::1/129']), { ok: false, message: 'invalid ip address: ::1/129' });
  });
});
