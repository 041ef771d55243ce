/** `npm run bench` options, and the load shapes they select. */
import { parseArgs } from 'node:util';
import { PAYLOAD_NAMES } from './payloads.js';
import type { PayloadName } from './payloads.js';

export const USAGE = `usage: npm run bench -- [options]

  --quick              short runs, one repeat: a smoke run, not figures to quote
  --repeat N           rounds of (raw, null, ours) per cell; medians are reported (default 3, quick 1)
  --shapes A,B         load shapes: 1x1, 4x25, rps1000 (default: all)
  --payloads A,B       ${PAYLOAD_NAMES.join(', ')} (default: all)
                       without --shapes, tools-call runs in every shape, the others in 4x25
  --entry FILE         mcp-gate entry (default dist/main.js; built by npm run build if missing)
  --ours-flags="..."   extra flags for mcp-gate serve, e.g. --ours-flags="--workers 2"
  --no-micro           skip the in-process micro-benchmarks
  --micro-only         only the micro-benchmarks (no h2load, no servers)
  --json               last stdout line: the whole report as one JSON object
  -h, --help`;

export const SHAPE_NAMES = ['1x1', '4x25', 'rps1000'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export interface Shape {
  readonly name: ShapeName;
  readonly description: string;
  readonly connections: number;
  readonly streams: number;
  readonly ratePerConnection: number | undefined;
  /** Measured duration, full and quick. */
  readonly seconds: number;
  readonly quickSeconds: number;
}

export const SHAPES: Readonly<Record<ShapeName, Shape>> = {
  '1x1': {
    name: '1x1',
    description: '1 connection x 1 stream: latency of one check at a time',
    connections: 1,
    streams: 1,
    ratePerConnection: undefined,
    seconds: 5,
    quickSeconds: 1,
  },
  '4x25': {
    name: '4x25',
    description: '4 connections x 25 streams: throughput',
    connections: 4,
    streams: 25,
    ratePerConnection: undefined,
    seconds: 5,
    quickSeconds: 1,
  },
  rps1000: {
    name: 'rps1000',
    description:
      '1,000 req/s fixed (4 connections x 250 req/s, up to 25 streams each): tail latency',
    connections: 4,
    streams: 25,
    ratePerConnection: 250,
    seconds: 10,
    quickSeconds: 2,
  },
};

/** One load cell: a payload sent in a shape. */
export interface Cell {
  readonly shape: ShapeName;
  readonly payload: PayloadName;
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly repeat: number;
  readonly cells: readonly Cell[];
  readonly payloads: readonly PayloadName[];
  readonly entry: string | undefined;
  /** Extra `mcp-gate serve` flags (e.g. `--workers 2`); CPU and RSS then cover every process. */
  readonly oursFlags: readonly string[];
  readonly micro: boolean;
  readonly load: boolean;
  readonly json: boolean;
  readonly help: boolean;
}

function list<T extends string>(raw: string, allowed: readonly T[], flag: string): T[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new Error(`--${flag}: unknown ${JSON.stringify(name)}; known: ${allowed.join(', ')}`);
    }
  }
  if (names.length === 0) throw new Error(`--${flag}: name at least one`);
  return [...new Set(names)] as T[];
}

export function parseOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean' },
      repeat: { type: 'string' },
      shapes: { type: 'string' },
      payloads: { type: 'string' },
      entry: { type: 'string' },
      'ours-flags': { type: 'string' },
      'no-micro': { type: 'boolean' },
      'micro-only': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  let repeat = quick ? 1 : 3;
  if (values.repeat !== undefined) {
    repeat = /^\d+$/.test(values.repeat) ? Number(values.repeat) : Number.NaN;
    if (!Number.isSafeInteger(repeat) || repeat < 1) {
      throw new Error(`--repeat must be an integer >= 1, got ${JSON.stringify(values.repeat)}`);
    }
  }
  const payloads =
    values.payloads === undefined
      ? [...PAYLOAD_NAMES]
      : list(values.payloads, PAYLOAD_NAMES, 'payloads');
  const shapes =
    values.shapes === undefined ? undefined : list(values.shapes, SHAPE_NAMES, 'shapes');
  const cells: Cell[] = [];
  for (const payload of payloads) {
    // The default matrix: the headline request in every shape, the others where cost per
    // payload shows (throughput); --shapes asks for the full product.
    const wanted: readonly ShapeName[] =
      shapes ?? (payload === 'tools-call' ? SHAPE_NAMES : (['4x25'] as const));
    for (const shape of wanted) cells.push({ shape, payload });
  }
  cells.sort((a, b) => SHAPE_NAMES.indexOf(a.shape) - SHAPE_NAMES.indexOf(b.shape));
  if (values['no-micro'] === true && values['micro-only'] === true) {
    throw new Error('--no-micro and --micro-only exclude each other');
  }
  return {
    quick,
    repeat,
    cells,
    payloads,
    entry: values.entry,
    oursFlags: (values['ours-flags'] ?? '').split(/\s+/).filter((f) => f !== ''),
    micro: values['no-micro'] !== true,
    load: values['micro-only'] !== true,
    json: values.json === true,
    help: values.help === true,
  };
}
