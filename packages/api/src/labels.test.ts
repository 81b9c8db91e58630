import { describe, expect, it } from 'vitest';
import {
  everything,
  labelSelectorToString,
  newRequirement,
  newSelector,
  nothing,
  parseSelector,
  parseToLabelSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  validateLabelSelector,
  type Requirement,
} from './labels.js';
import { aggregateFieldErrors } from './field-error.js';

const req = (key: string, op: Requirement['operator'], values: string[] = []) => newRequirement(key, op, values);

describe('parseSelector', () => {
  // upstream TestSelectorParse: good strings re-stringify to themselves without spaces.
  it.each(['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5'])('round-trips %j', (s) => {
    expect(parseSelector(s).toString()).toBe(s.replaceAll(' ', ''));
  });

  it.each(['x=a||y=b', 'x==a==b', '!x=a', 'x<a'])('rejects %j', (s) => {
    expect(() => parseSelector(s)).toThrow();
  });

  it('is deterministic regardless of term order', () => {
    expect(parseSelector('x=a,a=x').toString()).toBe(parseSelector('a=x,x=a').toString());
    expect(parseSelector('x=a,a=x').toString()).toBe('a=x,x=a');
  });

  // upstream TestSetSelectorParser
  const valid: [string, Requirement[]][] = [
    ['', []],
    ['\rx', [req('x', 'exists')]],
    ['this-is-a-dns.domain.com/key-with-dash', [req('this-is-a-dns.domain.com/key-with-dash', 'exists')]],
    ['this-is-another-dns.domain.com/key-with-dash in (so,what)', [req('this-is-another-dns.domain.com/key-with-dash', 'in', ['so', 'what'])]],
    ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', [req('0.1.2.domain/99', 'notin', ['10.10.100.1', 'tick.tack.clock'])]],
    ['foo  in\t (abc)', [req('foo', 'in', ['abc'])]],
    ['x notin\n (abc)', [req('x', 'notin', ['abc'])]],
    ['x  notin\t\t\t(abc,def)', [req('x', 'notin', ['abc', 'def'])]],
    ['x in (abc,def)', [req('x', 'in', ['abc', 'def'])]],
    ['x in (abc,)', [req('x', 'in', ['', 'abc'])]],
    ['x in ()', [req('x', 'in', [''])]],
    ['x notin (abc,,def),bar,z in (),w', [req('bar', 'exists'), req('w', 'exists'), req('x', 'notin', ['', 'abc', 'def']), req('z', 'in', [''])]],
    ['x=a', [req('x', '=', ['a'])]],
    ['x>1', [req('x', 'gt', ['1'])]],
    ['x<7', [req('x', 'lt', ['7'])]],
    ['x=a,y!=b', [req('x', '=', ['a']), req('y', '!=', ['b'])]],
    ['x=a,y!=b,z in (h,i,j)', [req('x', '=', ['a']), req('y', '!=', ['b']), req('z', 'in', ['h', 'i', 'j'])]],
    ['x notin ( )', [req('x', 'notin', [''])]],
    ['x notin (, a)', [req('x', 'notin', ['', 'a'])]],
    ['a ', [req('a', 'exists')]],
    ['a in (x,y,notin, z,in)', [req('a', 'in', ['in', 'notin', 'x', 'y', 'z'])]],
    ['a==b', [req('a', '==', ['b'])]],
    ['notin=in', [req('notin', '=', ['in'])]],
  ];
  it.each(valid)('parses %j', (s, want) => {
    expect(parseSelector(s).requirements).toEqual(want);
  });

  it.each(['x=a||y=b', 'x,,y', ',x,y', 'x nott in (y)', 'a in (xyz),', 'a in (xyz)b notin ()', 'a in (xyz abc)', 'a notin(', 'a (', '('])(
    'rejects %j',
    (s) => {
      expect(() => parseSelector(s)).toThrow();
    },
  );

  it('gives upstream error messages', () => {
    const msg = (s: string) => {
      try {
        parseSelector(s);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${s} parsed`);
    };
    expect(msg('a b')).toBe('unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt');
    expect(msg('x,,y')).toBe("found ',', expected: identifier after ','");
    expect(msg('(')).toBe("found '(', expected: !, identifier, or 'end of string'");
    expect(msg('!x=a')).toBe("found '=', expected: ',' or 'end of string'");
    expect(msg('a in (xyz abc)')).toBe("unable to parse requirement: found 'abc', expected: ',' or ')'");
    expect(msg('a in x')).toBe("unable to parse requirement: found 'x' expected: '('");
    expect(msg('a=(')).toBe("unable to parse requirement: found '(', expected: identifier");
    expect(msg('x<a')).toBe(
      'unable to parse requirement: values[0]: Invalid value: "a": for \'Gt\', \'Lt\' operators, the value must be an integer',
    );
    expect(msg('-a=b')).toMatch(/^unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of alphanumeric characters/);
    expect(msg('a=-b')).toMatch(/^unable to parse requirement: values\[0\]\[a\]: Invalid value: "-b": a valid label must be an empty string/);
  });
});

describe('matching', () => {
  // upstream TestSelectorMatches
  const cases: [string, Record<string, string>, boolean][] = [
    ['', { x: 'y' }, true],
    ['x=y', { x: 'y' }, true],
    ['x=y,z=w', { x: 'y', z: 'w' }, true],
    ['x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['notin=in', { notin: 'in' }, true],
    ['x', { x: 'z' }, true],
    ['!x', { y: 'z' }, true],
    ['x>1', { x: '2' }, true],
    ['x<1', { x: '0' }, true],
    ['x=z', {}, false],
    ['x=y', { x: 'z' }, false],
    ['x=y,z=w', { x: 'w', z: 'w' }, false],
    ['x!=y,z!=w', { x: 'z', z: 'w' }, false],
    ['x', { y: 'z' }, false],
    ['!x', { x: 'z' }, false],
    ['x>1', { x: '0' }, false],
    ['x<1', { x: '2' }, false],
    ['x>1', { x: 'v2' }, false],
    ['foo=bar,foobar=bar,baz=blah', { foo: 'bar', baz: 'blah' }, false],
    ['x notin (),y', { y: '' }, true],
    ['x in ()', { y: 'baz' }, false],
    ['x in (a,b)', { x: 'b' }, true],
    ['x notin (a,b)', { x: 'b' }, false],
    ['x notin (a,b)', {}, true],
  ];
  it.each(cases)('%j on %j is %s', (s, labels, want) => {
    expect(parseSelector(s).matches(labels)).toBe(want);
  });

  it('treats undefined labels as an empty set', () => {
    expect(parseSelector('!a').matches(undefined)).toBe(true);
    expect(parseSelector('a').matches(undefined)).toBe(false);
    expect(everything().matches(undefined)).toBe(true);
  });

  it('does not see inherited properties as labels', () => {
    expect(parseSelector('constructor').matches({})).toBe(false);
    for (const s of ['constructor', 'constructor=x', 'toString in (a)', 'hasOwnProperty>0', 'valueOf<9']) expect(parseSelector(s).matches({ app: 'web' }), s).toBe(false);
    for (const s of ['!constructor', 'constructor!=x', 'toString notin (a)']) expect(parseSelector(s).matches({ app: 'web' }), s).toBe(true);
    expect(parseSelector('constructor=x').matches({ constructor: 'x' })).toBe(true);
    expect(parseSelector('constructor').matches({ constructor: 'y' })).toBe(true);
    expect(selectorFromSet(JSON.parse('{"__proto__":"x"}')).matches({})).toBe(false);
    expect(selectorFromSet(JSON.parse('{"__proto__":"x"}')).matches(JSON.parse('{"__proto__":"x"}'))).toBe(true);
    expect(selectorFromLabelSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }).matches({})).toBe(false);
  });

  it('refuses a __proto__ key and an inherited operator name', () => {
    expect(() => parseSelector('__proto__')).toThrow('name part must consist of alphanumeric characters');
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'constructor' }] })).toThrow('"constructor" is not a valid label selector operator');
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'toString' }] })).toThrow('"toString" is not a valid label selector operator');
  });

  it('parses equality requirements on constructor into own matchLabels', () => {
    const ls = parseToLabelSelector('constructor=x,toString=y');
    expect(Object.keys(ls.matchLabels!)).toEqual(['constructor', 'toString']);
    expect(ls.matchLabels).toEqual({ constructor: 'x', toString: 'y' });
  });
});

describe('toString', () => {
  // upstream TestToString
  it('formats requirements canonically', () => {
    expect(newSelector([req('x', 'in', ['abc', 'def']), req('y', 'notin', ['jkl']), req('z', 'exists')]).toString()).toBe('x in (abc,def),y notin (jkl),z');
    expect(newSelector([req('x', 'notin', ['def', 'abc']), req('y', '!=', ['jkl']), req('z', '!')]).toString()).toBe('x notin (abc,def),y!=jkl,!z');
    expect(newSelector([req('x', 'notin', ['abc']), req('y', 'in', ['jkl', 'mno']), req('z', 'notin', [''])]).toString()).toBe(
      'x notin (abc),y in (jkl,mno),z notin ()',
    );
    expect(newSelector([req('x', '=', ['abc']), req('y', '==', ['jkl']), req('z', '!=', ['a']), req('z', 'exists')]).toString()).toBe(
      'x=abc,y==jkl,z!=a,z',
    );
    expect(newSelector([req('x', 'gt', ['2']), req('y', 'lt', ['8']), req('z', 'exists')]).toString()).toBe('x>2,y<8,z');
  });

  it('sorts by key when requirements are added', () => {
    expect(newSelector([req('b', 'exists')]).add(req('a', '=', ['1'])).toString()).toBe('a=1,b');
  });
});

describe('newRequirement', () => {
  // upstream TestRequirementConstructor
  it.each<[string, Requirement['operator'], string[], string]>([
    ['x1', 'in', [], "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    ['x2', 'notin', [], "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    ['x5', '=', ['bar', 'foo'], 'values: Invalid value: []string{"bar", "foo"}: exact-match compatibility requires one single value'],
    ['x8', 'exists', ['foo'], 'values: Invalid value: []string{"foo"}: values set must be empty for exists and does not exist'],
    ['x13', 'gt', [], "values: Invalid value: []string{}: for 'Gt', 'Lt' operators, exactly one value is required"],
    ['x14', 'gt', ['bar'], 'values[0]: Invalid value: "bar": for \'Gt\', \'Lt\' operators, the value must be an integer'],
    [
      'x18',
      'unsupportedOp' as Requirement['operator'],
      [],
      'operator: Unsupported value: "unsupportedOp": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    ],
  ])('%s %s %j fails', (key, op, vals, msg) => {
    expect(() => newRequirement(key, op, vals)).toThrow(msg);
  });

  it('validates keys and values', () => {
    expect(() => newRequirement('a'.repeat(254), 'exists')).toThrow(/^key: Invalid value: "a{254}": /);
    expect(() => newRequirement('x16', '=', ['a'.repeat(254)])).toThrow(/^values\[0\]\[x16\]: Invalid value: /);
    expect(() => newRequirement('x17', '=', ['a b'])).toThrow(/^values\[0\]\[x17\]: Invalid value: "a b": /);
  });

  it('accepts valid requirements', () => {
    expect(newRequirement('x3', 'in', ['foo'])).toEqual({ key: 'x3', operator: 'in', values: ['foo'] });
    expect(newRequirement('x11', 'gt', ['1'])).toEqual({ key: 'x11', operator: 'gt', values: ['1'] });
  });
});

describe('requiresExactMatch', () => {
  it('reports pinned values', () => {
    const s = parseSelector('a=1,b in (2),c in (3,4),d!=5');
    expect(s.requiresExactMatch('a')).toBe('1');
    expect(s.requiresExactMatch('b')).toBe('2');
    expect(s.requiresExactMatch('c')).toBeUndefined();
    expect(s.requiresExactMatch('d')).toBeUndefined();
    expect(s.requiresExactMatch('e')).toBeUndefined();
  });
});

describe('LabelSelector helpers', () => {
  it('undefined selects nothing, {} selects everything', () => {
    expect(selectorFromLabelSelector(undefined).matches({ a: 'b' })).toBe(false);
    expect(selectorFromLabelSelector(undefined).empty()).toBe(false);
    expect(nothing().matches({})).toBe(false);
    expect(selectorFromLabelSelector({}).matches({ a: 'b' })).toBe(true);
    expect(selectorFromLabelSelector({}).empty()).toBe(true);
    expect(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] }).empty()).toBe(true);
  });

  it('combines matchLabels and matchExpressions', () => {
    const s = selectorFromLabelSelector({
      matchLabels: { tier: 'web', app: 'x' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'track', operator: 'NotIn', values: ['canary'] },
        { key: 'zone', operator: 'Exists' },
      ],
    });
    expect(s.toString()).toBe('app=x,env in (prod,staging),!legacy,tier=web,track notin (canary),zone');
    expect(s.matches({ app: 'x', tier: 'web', env: 'prod', zone: 'a' })).toBe(true);
    expect(s.matches({ app: 'x', tier: 'web', env: 'prod', zone: 'a', legacy: '' })).toBe(false);
    expect(s.matches({ app: 'x', tier: 'web', env: 'prod', zone: 'a', track: 'canary' })).toBe(false);
    expect(s.matches({ app: 'x', tier: 'web', env: 'dev', zone: 'a' })).toBe(false);
  });

  it('rejects bad operators with upstream text', () => {
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toThrow(
      '"Gt" is not a valid label selector operator',
    );
  });

  it('formats like FormatLabelSelector', () => {
    expect(labelSelectorToString(undefined)).toBe('<none>');
    expect(labelSelectorToString({})).toBe('<none>');
    expect(labelSelectorToString({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] })).toBe(
      'app=web,tier in (a,b)',
    );
    expect(labelSelectorToString({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] })).toBe('<error>');
  });

  it('selectorFromSet makes equality requirements', () => {
    expect(selectorFromSet({ b: '2', a: '1' }).toString()).toBe('a=1,b=2');
    expect(selectorFromSet({ a: '1' }).matches({ a: '1', b: '2' })).toBe(true);
    expect(selectorFromSet(undefined).empty()).toBe(true);
  });

  it('parses a string into a LabelSelector', () => {
    expect(parseToLabelSelector('app=web,tier in (b,a),!legacy')).toEqual({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
      ],
    });
    expect(() => parseToLabelSelector('x>1')).toThrow('"gt" isn\'t supported in label selectors');
  });
});

describe('validateLabelSelector', () => {
  it('accepts a valid selector', () => {
    expect(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }, 'spec.selector')).toEqual([]);
    expect(validateLabelSelector(undefined, 'spec.selector')).toEqual([]);
  });

  it('reports operator and values problems with upstream messages', () => {
    const errs = validateLabelSelector(
      {
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'b', operator: 'Exists', values: ['x'] },
          { key: 'c', operator: 'Foo' },
        ],
      },
      'spec.selector',
    );
    expect(aggregateFieldErrors(errs)).toBe(
      "[spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn', " +
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist', " +
        'spec.selector.matchExpressions[2].operator: Invalid value: "Foo": not a valid selector operator]',
    );
  });

  it('checks key and value syntax', () => {
    const errs = validateLabelSelector(
      { matchLabels: { 'bad key': 'ok', good: 'bad value' }, matchExpressions: [{ key: '-k', operator: 'In', values: ['-v'] }] },
      'spec.selector',
    );
    expect(errs.map((e) => [e.field, e.badValue])).toEqual([
      ['spec.selector.matchLabels', 'bad key'],
      ['spec.selector.matchLabels', 'bad value'],
      ['spec.selector.matchExpressions[0].key', '-k'],
      ['spec.selector.matchExpressions[0].values[0]', '-v'],
    ]);
    expect(errs.every((e) => e.type === 'FieldValueInvalid')).toBe(true);
  });

  it('can allow invalid values and unknown operators', () => {
    const ls = { matchExpressions: [{ key: 'k', operator: 'Foo', values: ['-v'] }] };
    expect(validateLabelSelector(ls, 's', { allowInvalidLabelValueInSelector: true, allowUnknownOperatorInRequirement: true })).toEqual([]);
  });
});
