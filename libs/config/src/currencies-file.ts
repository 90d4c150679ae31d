import { pathProblem, shownPath, unreadableFileReason } from './path-problem';
import { readUtf8 } from './utf8-file';
import { parseCalendarDay } from '@stagecraft/opportunity';
import { MAX_LISTED_ISSUES, parseYamlText, type YamlDocument } from '@stagecraft/sales-process';
import { isNode, type LineCounter } from 'yaml';

// The currencies file (config/currencies.yaml, or CURRENCIES_FILE): a reporting currency and the
// rates that convert other currencies into it, each with the day it applies from. Without it the
// API answers every amount per currency only; with it, it adds totals labelled as converted, with
// the rates used (README, "Currencies"). Checked at start-up like a process file: a bad field
// stops the service with file, field and reason.
//
//   reportingCurrency: EUR
//   rates:
//     USD:                       # 1 USD = 0.92 EUR from 1 January 2026, 0.95 from 1 July
//       - { from: 2026-01-01, rate: 0.92 }
//       - { from: 2026-07-01, rate: 0.95 }

/** One rate: 1 unit of `currency` is `rate` units of the reporting currency, from the day `from` (YYYY-MM-DD) on. */
export interface CurrencyRate {
  readonly currency: string;
  readonly rate: number;
  readonly from: string;
}

export interface CurrencyRates {
  /** The file read, for messages. */
  readonly file: string;
  readonly reportingCurrency: string;
  /** By currency (code-unit order), then by `from`, earliest first. */
  readonly rates: readonly CurrencyRate[];
}

export interface CurrenciesFileIssue {
  /** Where in the document, e.g. rates.USD[1].rate; '' for the document itself. */
  readonly path: string;
  readonly reason: string;
  readonly line?: number;
}

/** The currencies file cannot be used: every problem with its field (and line). */
export class CurrenciesFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly CurrenciesFileIssue[],
    /** How many problems were found, when `issues` lists only the first of them (as a process file's refusal does). */
    readonly total: number = issues.length,
  ) {
    const lines = issues.map((issue) => `  ${issue.line ? `${file}:${issue.line}` : file} ${issue.path || '(document)'}: ${issue.reason}`);
    const listed = total > issues.length ? `; the first ${issues.length} listed` : '';
    super(`Invalid currencies file ${file} (${total} ${total === 1 ? 'problem' : 'problems'}${listed}):\n${lines.join('\n')}`);
    this.name = 'CurrenciesFileError';
  }
}

const CURRENCY = /^[A-Z]{3}$/;
/**
 * Bounds of a rate: far beyond any two ISO 4217 currencies' (about 1e-5 to 1e5 apart), and close
 * enough that every amount (at most 1e15) and every sum of them converts to a finite number. A
 * rate of 1e308 converted to Infinity, which the answers then showed as a missing rate.
 */
export const MIN_RATE = 1e-9;
export const MAX_RATE = 1e9;

const ROOT_KEYS = ['reportingCurrency', 'rates'];
/**
 * The path itself cannot be used (missing, a folder, a link to nothing, unreadable): a setting to
 * correct, worded as every other setting's refusal. Still a CurrenciesFileError for whoever stops on one.
 */
export class CurrenciesFilePathError extends CurrenciesFileError {
  constructor(file: string, reason: string) {
    super(file, [{ path: '', reason }]);
    this.name = 'CurrenciesFilePathError';
    this.message = `Invalid setting CURRENCIES_FILE: ${shownPath(file)} ${reason}`;
  }
}

const RATE_KEYS = ['from', 'rate'];

/**
 * Reads the currencies file. Undefined when it does not exist and was not asked for by name
 * (`required` false: the default path); a file named by CURRENCIES_FILE must exist.
 */
export function loadCurrenciesFile(file: string, required: boolean): CurrencyRates | undefined {
  const problem = pathProblem(file, 'file');
  // Optional at its default path only when nothing is there: a folder or a link to nothing is a mistake.
  if (problem === 'does not exist' && !required) return undefined;
  if (problem !== undefined) {
    const instead = problem === 'does not exist' ? '; create it, or unset CURRENCIES_FILE to answer per currency only' : '';
    throw new CurrenciesFilePathError(file, `${problem}${required ? instead : ' (the default path, CURRENCIES_FILE being unset)'}`);
  }
  let text: string;
  try {
    text = readUtf8(file);
  } catch (error) {
    throw new CurrenciesFilePathError(file, unreadableFileReason(file, error));
  }
  return parseCurrenciesFile(text, file);
}

/** Parses and checks the text of a currencies file; throws CurrenciesFileError listing every problem. */
export function parseCurrenciesFile(text: string, file: string): CurrencyRates {
  const { document, lineCounter, problems } = parseYamlText(text);
  if (problems.length > 0) {
    throw new CurrenciesFileError(file, problems.slice(0, MAX_LISTED_ISSUES).map(({ reason, line }) => ({ path: '', reason, line })), problems.length);
  }
  const issues: { path: (string | number)[]; reason: string }[] = [];
  const fail = (path: (string | number)[], reason: string) => issues.push({ path, reason });
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 50 });
  } catch (error) {
    // Aliases that expand past the limit (a "billion laughs" file) or nesting too deep to read.
    throw new CurrenciesFileError(file, [{ path: '', reason: `YAML: ${(error as Error).message.split('\n')[0]!} (aliases expanding too far, or nesting too deep)` }]);
  }
  const rates: CurrencyRate[] = [];
  let reportingCurrency = '';

  if (!isPlainObject(raw)) {
    fail([], 'must be a mapping with reportingCurrency and rates');
  } else {
    for (const key of Object.keys(raw)) if (!ROOT_KEYS.includes(key)) fail([key], `unknown field; the file has ${ROOT_KEYS.join(' and ')}`);
    if (typeof raw.reportingCurrency !== 'string' || !CURRENCY.test(raw.reportingCurrency)) {
      fail(['reportingCurrency'], 'must be an ISO 4217 code of 3 capital letters, such as EUR: the currency converted totals are given in');
    } else {
      reportingCurrency = raw.reportingCurrency;
    }
    if (!isPlainObject(raw.rates)) {
      fail(['rates'], 'must be a mapping of currency code → list of { from: YYYY-MM-DD, rate: number }');
    } else {
      for (const [currency, list] of Object.entries(raw.rates)) {
        if (!CURRENCY.test(currency)) fail(['rates', currency], 'must be an ISO 4217 code of 3 capital letters, such as USD');
        else if (currency === reportingCurrency) fail(['rates', currency], `is the reporting currency: it converts at 1 and takes no rate`);
        if (!Array.isArray(list) || list.length === 0) {
          fail(['rates', currency], 'must be a non-empty list of { from: YYYY-MM-DD, rate: number }');
          continue;
        }
        const days = new Set<string>();
        list.forEach((entry: unknown, index) => {
          const at = ['rates', currency, index];
          if (!isPlainObject(entry)) return fail(at, 'must be a mapping { from: YYYY-MM-DD, rate: number }');
          for (const key of Object.keys(entry)) if (!RATE_KEYS.includes(key)) fail([...at, key], 'unknown field; a rate has from and rate');
          const { from, rate } = entry;
          const fromOk = typeof from === 'string' && parseCalendarDay(from) !== undefined;
          if (!fromOk) fail([...at, 'from'], 'must be a calendar date YYYY-MM-DD: the first day the rate applies');
          else if (days.has(from)) fail([...at, 'from'], `another rate of ${currency} already applies from ${from}`);
          const rateOk = typeof rate === 'number' && Number.isFinite(rate) && rate >= MIN_RATE && rate <= MAX_RATE;
          if (!rateOk) fail([...at, 'rate'], `must be a number from ${MIN_RATE} to ${MAX_RATE}: how many ${reportingCurrency || 'reporting-currency units'} one ${currency} is worth`);
          if (fromOk && rateOk) {
            days.add(from);
            rates.push({ currency, rate, from });
          }
        });
      }
    }
  }
  if (issues.length > 0) {
    throw new CurrenciesFileError(
      file,
      issues.slice(0, MAX_LISTED_ISSUES).map(({ path, reason }) => {
        const line = lineOf(document, lineCounter, path);
        return { path: formatPath(path), reason, ...(line === undefined ? {} : { line }) };
      }),
      issues.length,
    );
  }
  rates.sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  return { file, reportingCurrency, rates };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

// The closest node that exists on the path: a missing key points at its parent.
function lineOf(document: YamlDocument, lineCounter: LineCounter, path: readonly (string | number)[]): number | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
