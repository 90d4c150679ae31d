// Amounts added exactly in SQL, as the in-memory read models add them (exact-amounts.ts): each
// amount becomes whole minor units (amount_units, migration 21: below FAST_UNITS_BELOW the amount
// times 10^4 rounded, above it the digits of its shortest text, as unitsOf reads them: every
// read-side connection sets extra_float_digits = 3, read-side.session.ts), the units
// are added as numeric (no bound, no rounding), and the sum comes back as text that
// valueOfUnitsText turns into the double nearest to it. So both read sides answer the same
// figures, whatever order PostgreSQL adds the rows in.

/** SQL: the exact sum of the amounts in `column` (null: none) as whole minor units, as text; `filter` limits the rows added. */
export const amountUnitsSum = (schema: string, column: string, filter?: string): string =>
  `sum(${schema}.amount_units(${column}))${filter ? ` FILTER (WHERE ${filter})` : ''}::text`;
