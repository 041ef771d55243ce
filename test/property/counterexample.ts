/**
 * Prints a failing input as a vitest test to paste into test/property/regressions.test.ts:
 * the input as a TypeScript literal (bytes as hex, null-prototype objects and `__proto__` keys
 * rebuilt exactly), the property it broke, the seed and path that replay it, and the message.
 */

/** A TypeScript expression that evaluates to a value equal to `value`. */
export function toLiteral(value: unknown, indent = ''): string {
  const next = `${indent}  `;
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0';
    if (Number.isNaN(value)) return 'Number.NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (value instanceof Uint8Array) {
    const bytes = `Buffer.from(${JSON.stringify(Buffer.from(value).toString('hex'))}, 'hex')`;
    return Buffer.isBuffer(value) ? bytes : `Uint8Array.from(${bytes})`;
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return `new ${name}(${toLiteral(Array.from(value as unknown as ArrayLike<unknown>), indent)})`;
  }
  if (value instanceof Date) return `new Date(${JSON.stringify(value.toISOString())})`;
  if (value instanceof Map) {
    return `new Map(${toLiteral([...value.entries()], indent)})`;
  }
  if (value instanceof Set) return `new Set(${toLiteral([...value.values()], indent)})`;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = value.every(
      (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v),
    );
    if (flat && value.length <= 8) return `[${value.map((v) => toLiteral(v)).join(', ')}]`;
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) {
      items.push(i in value ? toLiteral(value[i], next) : '/* hole */ undefined');
    }
    return `[\n${items.map((item) => `${next}${item}`).join(',\n')},\n${indent}]`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    const body =
      keys.length === 0
        ? '{}'
        : `{\n${keys
            .map((key) => {
              // `__proto__: x` in a literal sets the prototype; the computed form makes a key.
              const name =
                key === '__proto__'
                  ? '["__proto__"]'
                  : /^[A-Za-z_$][\w$]*$/.test(key)
                    ? key
                    : JSON.stringify(key);
              return `${next}${name}: ${toLiteral((value as Record<string, unknown>)[key], next)}`;
            })
            .join(',\n')},\n${indent}}`;
    return Object.getPrototypeOf(value) === null
      ? `Object.assign(Object.create(null), ${body})`
      : body;
  }
  // Functions and symbols never come out of the generators.
  return 'undefined /* unprintable */';
}

export interface Counterexample {
  readonly property: string;
  readonly input: unknown;
  readonly seed: number;
  readonly path: string | null;
  readonly message: string;
}

/** A complete `test(...)` block that replays the counterexample through checkProperty. */
export function toVitestCase(found: Counterexample): string {
  const firstLine = found.message.split('\n', 1)[0] ?? '';
  const comment = firstLine.length > 300 ? `${firstLine.slice(0, 300)}…` : firstLine;
  return [
    `// Found by the fuzzer: seed ${found.seed}, path ${JSON.stringify(found.path)}.`,
    `// ${comment.replace(/[\r\n]/g, ' ')}`,
    `// Needs: import { checkProperty } from './properties.js';`,
    `test(${JSON.stringify(`fuzz: ${found.property} (seed ${found.seed})`)}, () => {`,
    `  expect(checkProperty(${JSON.stringify(found.property)}, ${toLiteral(found.input, '  ')})).toBe('asserted');`,
    `});`,
  ].join('\n');
}
