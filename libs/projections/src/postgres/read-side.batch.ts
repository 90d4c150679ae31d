import { escapeLiteral, type ClientBase, type QueryResult } from 'pg';
import { numberArray, textArray } from './read-side.encoding';

// Several statements of one answer in one round trip. node-postgres sends a query only once the
// one before it has finished, so an answer of five statements waits for the server five times;
// on a loaded machine each wait is a scheduling delay of its own, and the p99 of the board's
// question was mostly those. A simple query may hold many statements (their results come back in
// order), but it takes no parameters: each statement's $n are written in as literals here.

/** A statement with numbered parameters ($1, $2, …), as `client.query(sql, values)` takes it. */
export interface Statement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** The literal SQL of a parameter: text quoted (backslashes too), numbers as JavaScript writes them, arrays as array literals. */
export function literalOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `'${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'}'`;
    // In parentheses: `x - -1` must not read as a comment (`--`), nor `1::int` bind to a sign.
    return value < 0 || Object.is(value, -0) ? `(${String(value)})` : String(value);
  }
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : String(value);
  if (Array.isArray(value)) {
    // The statements cast every array parameter (`::text[]`, `::int[]`): the literal only has to read back element by element.
    const numbers = value.every((element) => element === null || typeof element === 'number');
    return escapeLiteral(numbers ? numberArray(value as (number | null)[]) : textArray(value.map((element) => (element === null ? null : String(element)))));
  }
  throw new TypeError(`No SQL literal for a parameter of type ${typeof value}`);
}

/**
 * The statement with its parameters written in: every `$n` outside a quoted string literal or
 * identifier (our statements use no dollar quoting, nor E'' strings of their own).
 */
export function inlineParameters({ sql, values }: Statement): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g, (match, n: string | undefined) => {
    if (n === undefined) return match;
    const index = Number(n) - 1;
    if (index >= values.length) throw new RangeError(`$${n} has no value (${values.length} given)`);
    return literalOf(values[index]);
  });
}

/** Runs the statements in one round trip (one simple query), in order; one result per statement. */
export async function queryAll(client: ClientBase, statements: readonly (Statement | string)[]): Promise<QueryResult[]> {
  if (statements.length === 0) return [];
  const text = statements.map((statement) => (typeof statement === 'string' ? statement : inlineParameters(statement))).join(';\n');
  const result = (await client.query(text)) as unknown as QueryResult | QueryResult[];
  // One statement: node-postgres answers a result, not an array of one.
  return Array.isArray(result) ? result : [result];
}

/**
 * `statement` run with sorting disabled, for a sum that must add rows in an order a sort of its own
 * gave them (a float8 sum() is plain addition in input order). PostgreSQL's sort is not stable, so
 * no second sort may come between that one and the sums: with sorting disabled, a plan that groups
 * by sorting again costs two disabled sorts against a hash aggregate's one and is never chosen. A
 * plan so costed runs into the billions, where JIT compiling would kick in for hundreds of ms, so
 * JIT is off too. Hash aggregation is turned on: a database, a role or READ_MODELS_URL's options may
 * turn it off (enable_hashagg), and then grouping by a second sort would be chosen after all. All
 * three are reset after the statement, within the same transaction. The statement's result is at
 * WITHOUT_SORTING_RESULT of these, what follows at WITHOUT_SORTING_LENGTH.
 */
export function withoutSorting(statement: Statement | string): (Statement | string)[] {
  return [
    'SET LOCAL enable_sort = off',
    'SET LOCAL jit = off',
    'SET LOCAL enable_hashagg = on',
    statement,
    'SET LOCAL enable_sort TO DEFAULT',
    'SET LOCAL jit TO DEFAULT',
    'SET LOCAL enable_hashagg TO DEFAULT',
  ];
}
export const WITHOUT_SORTING_RESULT = 3;
export const WITHOUT_SORTING_LENGTH = 7;
