/** DI token of the Settings read at start-up. */
export const API_SETTINGS = Symbol('API_SETTINGS');
/** DI token of the clock: a function returning the current time, replaceable in tests. */
export const CLOCK = Symbol('CLOCK');
export type Clock = () => Date;
/** DI token of the currencies file read at start-up (CurrencyRates), or null when there is none. */
export const CURRENCY_RATES = Symbol('CURRENCY_RATES');
