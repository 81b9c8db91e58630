// Label selectors, as upstream's k8s.io/apimachinery/pkg/labels (string syntax, requirements, matching)
// plus the metav1.LabelSelector helpers (LabelSelectorAsSelector, FormatLabelSelector,
// ParseToLabelSelector, ValidateLabelSelector). Messages are upstream's, word for word.

import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1';
import type { FieldError } from './field-error.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';
import { getOwn, hasOwn, setOwn } from './own.js';

/** selection.Operator values, spelled as upstream spells them. */
export type Operator = '!' | '=' | '==' | 'in' | '!=' | 'notin' | 'exists' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** Empty for exists/!; one value for =, ==, !=, gt, lt. */
  readonly values: readonly string[];
}

export interface Selector {
  /** Sorted by key (stable), as upstream keeps them. */
  readonly requirements: readonly Requirement[];
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** True for the everything selector (no requirements); false for nothing(). */
  empty(): boolean;
  /** Canonical string form, e.g. `app=web,tier in (a,b),!legacy`. */
  toString(): string;
  /** The value a key must equal (=, == or a one-value in), if the selector pins it. */
  requiresExactMatch(key: string): string | undefined;
  /** A new selector with the requirements added (re-sorted by key). */
  add(...reqs: Requirement[]): Selector;
}

const unaryOperators: Operator[] = ['exists', '!'];
const binaryOperators: Operator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const validRequirementOperators: Operator[] = [...binaryOperators, ...unaryOperators];

// ---------------------------------------------------------------------------------------------
// Go-style formatting helpers for error messages.

/** Go's %q for a string (ASCII control characters escaped, printable text kept). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\t': out += '\\t'; break;
      case '\r': out += '\\r'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\v': out += '\\v'; break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else out += ch;
    }
  }
  return out + '"';
}

/** Go's %#v of a []string. */
function goStringSlice(v: readonly string[]): string {
  return `[]string{${v.map(goQuote).join(', ')}}`;
}

function aggregate(msgs: string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedCopy(v: readonly string[]): string[] {
  return [...v].sort(compareStrings);
}

// ---------------------------------------------------------------------------------------------
// Requirements

/** Error messages (field.Error strings) for a key, or none. `path` is the Go field path text. */
function labelKeyError(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? `${path}: Invalid value: ${goQuote(key)}: ${errs.join('; ')}` : undefined;
}

function labelValueError(key: string, value: string, path: string): string | undefined {
  const errs = isValidLabelValue(value);
  return errs.length ? `${path}[${key}]: Invalid value: ${goQuote(value)}: ${errs.join('; ')}` : undefined;
}

const int64Re = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(v, 10, 64), or undefined when it would fail. */
function parseInt64(v: string): bigint | undefined {
  if (!int64Re.test(v)) return undefined;
  const n = BigInt(v);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * Builds a validated requirement, as upstream's labels.NewRequirement. Throws an Error whose message is
 * upstream's aggregated field errors (`key: Invalid value: ...`, `values: Invalid value: ...`).
 */
export function newRequirement(key: string, operator: Operator, values: readonly string[] = []): Requirement {
  const errs: string[] = [];
  const keyErr = labelKeyError(key, 'key');
  if (keyErr) errs.push(keyErr);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`values: Invalid value: ${goStringSlice(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`values: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(`values[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
    default:
      errs.push(
        `operator: Unsupported value: ${goQuote(String(operator))}: supported values: ${validRequirementOperators.map((o) => goQuote(o)).join(', ')}`,
      );
  }
  values.forEach((v, i) => {
    const e = labelValueError(key, v, `values[${i}]`);
    if (e) errs.push(e);
  });
  if (errs.length) throw new Error(aggregate(errs));
  return Object.freeze({ key, operator, values: Object.freeze([...values]) });
}

/** Whether one requirement holds for a label set (upstream's Requirement.Matches). */
export function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return hasOwn(labels, r.key) && r.values.includes(labels![r.key]!);
    case 'notin':
    case '!=':
      return !hasOwn(labels, r.key) || !r.values.includes(labels![r.key]!);
    case 'exists':
      return hasOwn(labels, r.key);
    case '!':
      return !hasOwn(labels, r.key);
    case 'gt':
    case 'lt': {
      if (!hasOwn(labels, r.key)) return false;
      const actual = parseInt64(labels![r.key]!);
      if (actual === undefined || r.values.length !== 1) return false;
      const want = parseInt64(r.values[0]!);
      if (want === undefined) return false;
      return r.operator === 'gt' ? actual > want : actual < want;
    }
    default:
      return false;
  }
}

/** A requirement's string form, as upstream's Requirement.String. */
export function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? '!' + r.key : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case '=': s += '='; break;
    case '==': s += '=='; break;
    case '!=': s += '!='; break;
    case 'in': s += ' in '; break;
    case 'notin': s += ' notin '; break;
    case 'gt': s += '>'; break;
    case 'lt': s += '<'; break;
  }
  const paren = r.operator === 'in' || r.operator === 'notin';
  if (paren) s += '(';
  s += r.values.length === 1 ? r.values[0] : sortedCopy(r.values).join(',');
  if (paren) s += ')';
  return s;
}

// ---------------------------------------------------------------------------------------------
// Selectors

class InternalSelector implements Selector {
  readonly requirements: readonly Requirement[];

  constructor(reqs: readonly Requirement[]) {
    // Array.prototype.sort is stable, as upstream's insertion sort is for small selectors.
    this.requirements = Object.freeze([...reqs].sort((a, b) => compareStrings(a.key, b.key)));
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    return this.requirements.every((r) => requirementMatches(r, labels));
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }

  requiresExactMatch(key: string): string | undefined {
    const r = this.requirements.find((x) => x.key === key);
    if (!r) return undefined;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    return undefined;
  }

  add(...reqs: Requirement[]): Selector {
    return new InternalSelector([...this.requirements, ...reqs]);
  }
}

class NothingSelector implements Selector {
  readonly requirements: readonly Requirement[] = Object.freeze([]);
  matches(): boolean {
    return false;
  }
  empty(): boolean {
    return false;
  }
  toString(): string {
    return '';
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
  add(): Selector {
    return this;
  }
}

const everythingSelector: Selector = new InternalSelector([]);
const nothingSelector: Selector = new NothingSelector();

/** Matches every object (also what an empty selector string parses to). */
export function everything(): Selector {
  return everythingSelector;
}

/** Matches no object (a nil metav1.LabelSelector). */
export function nothing(): Selector {
  return nothingSelector;
}

/** A selector from requirements (they are sorted by key). */
export function newSelector(reqs: readonly Requirement[] = []): Selector {
  return reqs.length === 0 ? everythingSelector : new InternalSelector(reqs);
}

/** Equality requirements for every pair of a label set, unvalidated (upstream's SelectorFromSet). */
export function selectorFromSet(set: Readonly<Record<string, string>> | undefined): Selector {
  if (!set) return everythingSelector;
  return newSelector(Object.entries(set).map(([key, v]) => Object.freeze({ key, operator: '=' as const, values: Object.freeze([v]) })));
}

/** As selectorFromSet, but validating keys and values (throws upstream's message). */
export function validatedSelectorFromSet(set: Readonly<Record<string, string>> | undefined): Selector {
  if (!set) return everythingSelector;
  return newSelector(Object.entries(set).map(([k, v]) => newRequirement(k, '=', [v])));
}

// ---------------------------------------------------------------------------------------------
// The string syntax: a lexer and a recursive-descent parser with upstream's messages.

type Token =
  | 'error'
  | 'eos'
  | 'cpar'
  | 'comma'
  | 'notexist'
  | 'deq'
  | 'eq'
  | 'gt'
  | 'ident'
  | 'in'
  | 'lt'
  | 'neq'
  | 'notin'
  | 'opar';

const literalTokens = new Map<string, Token>([
  [')', 'cpar'],
  [',', 'comma'],
  ['!', 'notexist'],
  ['==', 'deq'],
  ['=', 'eq'],
  ['>', 'gt'],
  ['in', 'in'],
  ['<', 'lt'],
  ['!=', 'neq'],
  ['notin', 'notin'],
  ['(', 'opar'],
]);

interface Item {
  tok: Token;
  lit: string;
}

const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string) => ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'eos', lit: '' });
      return items;
    }
    if (isSpecial(s[pos]!)) {
      // The longest run of special characters that still forms a known token.
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos]!)) {
        buf += s[pos];
        pos++;
        const t = literalTokens.get(buf);
        if (t) last = { tok: t, lit: buf };
        else if (last) {
          pos--;
          break;
        }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
    } else {
      let buf = '';
      while (pos < s.length && !isSpecial(s[pos]!) && !isWhitespace(s[pos]!)) buf += s[pos++];
      const t = literalTokens.get(buf);
      items.push({ tok: t ?? 'ident', lit: buf });
    }
  }
}

type Context = 'keyAndOperator' | 'values';

class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  private view(i: Item, ctx: Context): Item {
    if (ctx === 'values' && (i.tok === 'in' || i.tok === 'notin')) return { tok: 'ident', lit: i.lit };
    return i;
  }
  lookahead(ctx: Context): Item {
    return this.view(this.items[this.position]!, ctx);
  }
  consume(ctx: Context): Item {
    return this.view(this.items[this.position++]!, ctx);
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      switch (tok) {
        case 'ident':
        case 'notexist': {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            throw new Error(`unable to parse requirement: ${(e as Error).message}`);
          }
          reqs.push(r);
          const t = this.consume('values');
          if (t.tok === 'eos') return reqs;
          if (t.tok === 'comma') {
            const t2 = this.lookahead('values');
            if (t2.tok !== 'ident' && t2.tok !== 'notexist') throw new Error(`found '${t2.lit}', expected: identifier after ','`);
            break;
          }
          throw new Error(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
        case 'eos':
          return reqs;
        default:
          throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, []);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, sortedCopy([...values]));
  }

  private parseKeyAndInferOperator(): { key: string; operator: Operator | '' } {
    let operator: Operator | '' = '';
    let t = this.consume('values');
    if (t.tok === 'notexist') {
      operator = '!';
      t = this.consume('values');
    }
    if (t.tok !== 'ident') throw new Error(`found '${t.lit}', expected: identifier`);
    const keyErr = labelKeyError(t.lit, '<nil>');
    if (keyErr) throw new Error(keyErr);
    const next = this.lookahead('values').tok;
    if ((next === 'eos' || next === 'comma') && operator !== '!') operator = 'exists';
    return { key: t.lit, operator };
  }

  private parseOperator(): Operator {
    const { tok, lit } = this.consume('keyAndOperator');
    switch (tok) {
      case 'in': return 'in';
      case 'eq': return '=';
      case 'deq': return '==';
      case 'gt': return 'gt';
      case 'lt': return 'lt';
      case 'notin': return 'notin';
      case 'neq': return '!=';
      default:
        throw new Error(`found '${lit}', expected: ${binaryOperators.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    let t = this.consume('values');
    if (t.tok !== 'opar') throw new Error(`found '${t.lit}' expected: '('`);
    t = this.lookahead('values');
    switch (t.tok) {
      case 'ident':
      case 'comma': {
        const s = this.parseIdentifiersList();
        if (this.consume('values').tok !== 'cpar') throw new Error(`found '${t.lit}', expected: ')'`);
        return s;
      }
      case 'cpar':
        this.consume('values');
        return new Set(['']);
      default:
        throw new Error(`found '${t.lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const t = this.consume('values');
      if (t.tok === 'ident') {
        s.add(t.lit);
        const t2 = this.lookahead('values');
        if (t2.tok === 'comma') continue;
        if (t2.tok === 'cpar') return s;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === 'comma') {
        if (s.size === 0) s.add(''); // "(,"
        const t2 = this.lookahead('values');
        if (t2.tok === 'cpar') {
          s.add(''); // ",)"
          return s;
        }
        if (t2.tok === 'comma') {
          this.consume('values');
          s.add(''); // ",,"
        }
      } else {
        throw new Error(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const t = this.lookahead('values');
    if (t.tok === 'eos' || t.tok === 'comma') return new Set(['']);
    const c = this.consume('values');
    if (c.tok === 'ident') return new Set([c.lit]);
    throw new Error(`found '${c.lit}', expected: identifier`);
  }
}

/** The requirements of a selector string, sorted by key (upstream's ParseToRequirements). */
export function parseToRequirements(s: string): Requirement[] {
  return [...new Parser(lex(s)).parse()].sort((a, b) => compareStrings(a.key, b.key));
}

/**
 * Parses the `labelSelector` string syntax (`a=b,c!=d,e in (f,g),h notin (i),j,!k`, plus `x>1`, `x<1`).
 * The empty string selects everything. Throws an Error with upstream's message on bad input.
 */
export function parseSelector(s: string): Selector {
  return newSelector(parseToRequirements(s));
}

// ---------------------------------------------------------------------------------------------
// metav1.LabelSelector helpers

const opFromLabelSelectorOp: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * Upstream's LabelSelectorAsSelector: undefined selects nothing, `{}` selects everything. Throws an Error
 * with upstream's message for an invalid operator, key or value.
 */
export function selectorFromLabelSelector(ls: LabelSelector | null | undefined): Selector {
  if (!ls) return nothingSelector;
  const matchLabels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + exprs.length === 0) return everythingSelector;
  const reqs: Requirement[] = [];
  for (const k of Object.keys(matchLabels).sort(compareStrings)) reqs.push(newRequirement(k, '=', [matchLabels[k]!]));
  for (const e of exprs) {
    const op = getOwn(opFromLabelSelectorOp, String(e.operator));
    if (!op) throw new Error(`${goQuote(String(e.operator ?? ''))} is not a valid label selector operator`);
    reqs.push(newRequirement(e.key, op, [...(e.values ?? [])]));
  }
  return newSelector(reqs);
}

/** metav1.FormatLabelSelector: the selector's string, `<none>` when empty, `<error>` when invalid. */
export function labelSelectorToString(ls: LabelSelector | null | undefined): string {
  let s: string;
  try {
    s = selectorFromLabelSelector(ls).toString();
  } catch {
    return '<error>';
  }
  return s.length === 0 ? '<none>' : s;
}

/** metav1.ParseToLabelSelector: a selector string as a LabelSelector object. */
export function parseToLabelSelector(s: string): LabelSelector {
  let reqs: Requirement[];
  try {
    reqs = parseToRequirements(s);
  } catch (e) {
    throw new Error(`couldn't parse the selector string "${s}": ${(e as Error).message}`);
  }
  const out: { matchLabels: Record<string, string>; matchExpressions: LabelSelectorRequirement[] } = { matchLabels: {}, matchExpressions: [] };
  for (const r of reqs) {
    switch (r.operator) {
      case '=':
      case '==':
        setOwn(out.matchLabels, r.key, r.values[0]!);
        continue;
      case 'gt':
      case 'lt':
        throw new Error(`${goQuote(r.operator)} isn't supported in label selectors`);
    }
    const operator = r.operator === 'in' ? 'In' : r.operator === 'notin' ? 'NotIn' : r.operator === 'exists' ? 'Exists' : 'DoesNotExist';
    out.matchExpressions.push({ key: r.key, operator, values: [...new Set(r.values)].sort(compareStrings) });
  }
  return out;
}

export interface LabelSelectorValidationOptions {
  /** Allow label values that are not valid (for updates of objects persisted before validation). */
  allowInvalidLabelValueInSelector?: boolean;
  /** Let unknown operators pass (as SubjectAccessReview does). */
  allowUnknownOperatorInRequirement?: boolean;
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** Upstream's metav1validation.ValidateLabels for a map at `fieldPath`. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push({ type: 'FieldValueInvalid', field: fieldPath, badValue: k, detail: msg });
    for (const msg of isValidLabelValue(v)) errs.push({ type: 'FieldValueInvalid', field: fieldPath, badValue: v, detail: msg });
  }
  return errs;
}

/** Upstream's ValidateLabelSelector: operators, values required/forbidden, key and value syntax. */
export function validateLabelSelector(
  ls: LabelSelector | null | undefined,
  fieldPath: string,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  if (!ls) return [];
  const errs = validateLabels(ls.matchLabels, child(fieldPath, 'matchLabels'));
  (ls.matchExpressions ?? []).forEach((expr, i) => {
    const p = `${child(fieldPath, 'matchExpressions')}[${i}]`;
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          errs.push({ type: 'FieldValueRequired', field: `${p}.values`, detail: "must be specified when `operator` is 'In' or 'NotIn'" });
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errs.push({ type: 'FieldValueForbidden', field: `${p}.values`, detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
        }
        break;
      default:
        if (!opts.allowUnknownOperatorInRequirement) {
          errs.push({ type: 'FieldValueInvalid', field: `${p}.operator`, badValue: expr.operator ?? '', detail: 'not a valid selector operator' });
        }
    }
    for (const msg of isQualifiedName(expr.key ?? '')) errs.push({ type: 'FieldValueInvalid', field: `${p}.key`, badValue: expr.key ?? '', detail: msg });
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, j) => {
        for (const msg of isValidLabelValue(v)) errs.push({ type: 'FieldValueInvalid', field: `${p}.values[${j}]`, badValue: v, detail: msg });
      });
    }
  });
  return errs;
}
