// Sets of field paths, as structured-merge-diff's fieldpath.Set, and their FieldsV1 encoding
// (`{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}`).
// A path is a list of path elements: `f:<field>`, `k:<json of key fields>`, `v:<json value>`, `i:<index>`.
import { getOwn, setOwn } from '../own.js';
import { goFormat } from './json.js';

export type PathElement = string;
export type FieldPath = readonly PathElement[];

const keyOf = (p: FieldPath): string => JSON.stringify(p);

export class FieldSet {
  private readonly paths = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const p of paths) this.add(p);
  }

  add(p: FieldPath): void {
    if (p.length > 0) this.paths.set(keyOf(p), [...p]);
  }
  has(p: FieldPath): boolean {
    return this.paths.has(keyOf(p));
  }
  delete(p: FieldPath): void {
    this.paths.delete(keyOf(p));
  }
  get size(): number {
    return this.paths.size;
  }
  isEmpty(): boolean {
    return this.paths.size === 0;
  }
  /** Paths in sorted order (parents before children). */
  list(): FieldPath[] {
    return [...this.paths.values()].sort(comparePaths);
  }
  /** True when the set holds `p` or a path below it. */
  hasOrHasDescendant(p: FieldPath): boolean {
    const k = keyOf(p);
    const prefix = k.slice(0, -1) + ',';
    for (const key of this.paths.keys()) if (key === k || key.startsWith(prefix)) return true;
    return false;
  }
  /** Removes `p` and every path below it. */
  deleteTree(p: FieldPath): void {
    const k = keyOf(p);
    const prefix = k.slice(0, -1) + ',';
    for (const key of [...this.paths.keys()]) if (key === k || key.startsWith(prefix)) this.paths.delete(key);
  }
  union(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths.values(), ...other.paths.values()]);
  }
  difference(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths.values()].filter((p) => !other.has(p)));
  }
  intersection(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths.values()].filter((p) => other.has(p)));
  }
  equals(other: FieldSet): boolean {
    return this.size === other.size && [...this.paths.keys()].every((k) => other.paths.has(k));
  }

  /** The FieldsV1 JSON form. */
  toFieldsV1(): Record<string, unknown> {
    const root: Record<string, unknown> = {};
    for (const p of this.list()) {
      let node = root;
      for (const pe of p) {
        let next = getOwn(node, pe) as Record<string, unknown> | undefined;
        if (next === undefined) setOwn(node, pe, (next = {}));
        node = next;
      }
      node['.'] = {};
    }
    // A member with no children is written `{}`; with children it keeps `".": {}`.
    const tidy = (n: Record<string, unknown>): Record<string, unknown> => {
      const keys = Object.keys(n);
      if (keys.length === 1 && keys[0] === '.') return {};
      const out: Record<string, unknown> = {};
      for (const k of keys.sort(compareElements)) setOwn(out, k, k === '.' ? {} : tidy(n[k] as Record<string, unknown>));
      return out;
    };
    return tidy(root);
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (n: unknown, path: PathElement[]): void => {
      if (typeof n !== 'object' || n === null) return;
      const keys = Object.keys(n);
      if (keys.length === 0 && path.length > 0) set.add(path);
      for (const k of keys) {
        if (k === '.') set.add(path);
        else walk((n as Record<string, unknown>)[k], [...path, k]);
      }
    };
    walk(fields, []);
    return set;
  }
}

function compareElements(a: string, b: string): number {
  if (a === '.') return -1;
  if (b === '.') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePaths(a: FieldPath, b: FieldPath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareElements(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** structured-merge-diff's Path.String(): `.spec.containers[name="web"].image`, `[="x"]` for set values. */
export function pathString(p: FieldPath): string {
  return p
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe.slice(0, 2)) {
        case 'f:':
          return `.${body}`;
        case 'k:': {
          const key = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.keys(key)
            .map((k) => `${k}=${valueString(key[k])}`)
            .join(',')}]`;
        }
        case 'v:':
          return `[=${valueString(JSON.parse(body))}]`;
        case 'i:':
          return `[${body}]`;
        default:
          return '{{invalid path element}}';
      }
    })
    .join('');
}

function valueString(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return goFormat(v);
}
