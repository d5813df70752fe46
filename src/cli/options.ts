// The command line's shared option handling: JSON config files (a typo in a
// key is an error, not ignored), flag parsing for yargs' raw values (a flag
// given twice counts with its last value), and help-text helpers. Every bad
// value is an InvalidConfigError, which main.ts prints as one line, exit 2.
import fs from 'node:fs';
import { checkInteger, InvalidConfigError } from '../common/index.js';

/** `1073741824 = 1 GiB`, for help texts. */
export function bytesText(n: number): string {
  for (const [unit, size] of [['GiB', 1 << 30], ['MiB', 1 << 20], ['KiB', 1 << 10]] as const) {
    if (n >= size && n % size === 0) return `${n} = ${n / size} ${unit}`;
  }
  return String(n);
}

/** A plain JSON object, or undefined. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads a JSON config file holding one object; any failure is an InvalidConfigError naming the file. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(parsed)) throw new InvalidConfigError(`config file ${file} must hold a JSON object`);
  return parsed;
}

/** Rejects keys of a config file section that are not options (a typo must not be silently ignored). */
export function checkKeys(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      throw new InvalidConfigError(`${where}: unknown option ${JSON.stringify(k)} (known: ${[...known].sort().join(', ')})`);
    }
  }
}

/** A flag given more than once counts with its last value. */
function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** An integer flag (raw yargs value: number, string or a repeated list), or undefined when absent. */
export function intFlag(flag: string, raw: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = last(raw);
  if (v === undefined) return undefined;
  // A digit string counts as its number; anything else is reported as given.
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  return checkInteger(`--${flag}`, n, min, max);
}

/** A string flag, or undefined when absent; never empty. */
export function stringFlag(flag: string, raw: unknown): string | undefined {
  const v = last(raw);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new InvalidConfigError(`--${flag} needs a value`);
  const s = String(v);
  if (s.trim() === '') throw new InvalidConfigError(`--${flag} must not be empty`);
  return s;
}

/** Every value of a repeatable flag, each also split on commas and semicolons. */
export function listFlag(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const values = Array.isArray(raw) ? raw : [raw];
  return values.flatMap((v) => String(v).split(/[;,]/)).map((s) => s.trim()).filter((s) => s !== '');
}

/** Copies an object without its undefined values (the resolve functions let undefined override a default). */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
