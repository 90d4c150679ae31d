import { describeStartFailure } from './start-failure';
import { readSettings, SettingsError } from './settings';
import { settingWarnings } from './setting-names';

// A setting's value is whatever the environment held (a deployment file, a shell line pasted with
// a terminal's escape sequences): quoted back at start-up, each character that acts on a reader
// (ESC, a line break, U+0085, a line separator, a bidirectional override, a zero-width character)
// is written as its escape, as the API and the CLI quote a value, so the one line an operator
// reads cannot be recoloured, reordered or split.

/** What a terminal acts on rather than shows. */
const ACTS_ON_READER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const HOSTILE = 'x\u202eyz\u001b[2J\u200b\r\nStagecraft API listening\u2028';
const ESCAPED = 'x\\u202eyz\\u001b[2J\\u200b\\r\\nStagecraft API listening\\u2028';

const WEBHOOK = 'https://hooks.example/stagecraft';
const SECRET = 's'.repeat(32);
const JWKS = { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' };

const REFUSED: readonly [string, NodeJS.ProcessEnv][] = [
  ['EVENT_STORE_DURABILITY', { EVENT_STORE_DURABILITY: HOSTILE }],
  ['PROJECTIONS', { PROJECTIONS: HOSTILE }],
  ['AUTH', { AUTH: HOSTILE }],
  ['PORT', { PORT: HOSTILE }],
  // Spaces at either end (U+FEFF and U+2028 among them) are trimmed before the word is read.
  ['STREAM_SNAPSHOTS_PATH', { STREAM_SNAPSHOTS_PATH: '\ufeffOFF\u2028' }],
  ['READ_MODELS_PATH', { READ_MODELS_PATH: '\ufeffoff\r\n' }],
  ['JWT_JWKS_URL', { ...JWKS, JWT_JWKS_URL: `ftp://${HOSTILE}` }],
  ['JWT_ALGORITHMS', { ...JWKS, JWT_ALGORITHMS: HOSTILE }],
  ['READ_MODELS_SCHEMA', { READ_MODELS_URL: 'postgres://u@localhost:5432/db', READ_MODELS_SCHEMA: HOSTILE }],
  ['EVENT_STORE_URL', { EVENT_STORE_URL: `kurrentdb://${HOSTILE}` }],
  ['TRUST_PROXY', { TRUST_PROXY: HOSTILE }],
  ['RELAY', { RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY: HOSTILE }],
  ['RELAY_NEW_SINK_FROM', { RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_NEW_SINK_FROM: HOSTILE }],
  ['RELAY_SINKS', { RELAY_SINKS: `nats://${HOSTILE}` }],
  ['RELAY_WEBHOOK_SECRETS', { RELAY_SINKS: WEBHOOK, RELAY_WEBHOOK_SECRETS: JSON.stringify({ [`https://other.example/${HOSTILE}`]: SECRET }) }],
];

function refusal(env: NodeJS.ProcessEnv): SettingsError {
  try {
    readSettings(env, '/srv');
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error('the settings were taken');
}

describe('a setting refused at start-up quotes its value escaped', () => {
  it.each(REFUSED)('%s', (variable, env) => {
    const error = refusal(env);
    expect(error.variable).toBe(variable);
    expect(error.message).not.toMatch(ACTS_ON_READER);
    // And the line start-up prints of it.
    expect(describeStartFailure(error)).not.toMatch(ACTS_ON_READER);
  });

  it('quotes a value whole, `"` and `\\` escaped, where it was quoted raw', () => {
    expect(refusal({ PROJECTIONS: HOSTILE }).message).toBe(`Invalid setting PROJECTIONS: must be "in-process" or "external" (got "${ESCAPED}")`);
    expect(refusal({ AUTH: 'o"n\\' }).message).toBe('Invalid setting AUTH: must be "on" or "off" (got "o\\"n\\\\")');
  });

  it('escapes a reason built elsewhere (an error of the URL parser, a path) too', () => {
    expect(new SettingsError('X', `is ${HOSTILE}`).message).toBe(`Invalid setting X: is ${ESCAPED}`);
  });

  it('start-up lines naming HOST escape it', () => {
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    expect(describeStartFailure(error, { host: HOSTILE, port: 3000 })).toContain(`HOST=${ESCAPED}:`);
  });

  it('a misspelt setting name is named escaped in its warning', () => {
    const [warning] = settingWarnings({ 'PORT\u202e': '1' });
    expect(warning).toBe('PORT\\u202e is not a setting Stagecraft reads (did you mean PORT?): it is ignored, and PORT keeps its value or default.');
  });
});
