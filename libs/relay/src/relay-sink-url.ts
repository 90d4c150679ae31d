import { unescape as amqplibUnescape } from 'node:querystring';
import { DEFAULT_AMQP_EXCHANGE, DEFAULT_NATS_STREAM, PUBLIC_EVENT_TYPE_PREFIX } from '@stagecraft/public-events';

// A sink is named by a URL in RELAY_SINKS. Its `key` is that URL without credentials (and, for a
// webhook, without its query, which may hold a token): the name its checkpoint and dead letters
// are kept under, shown in /health and taken by `stagecraft relay … --sink`.

export interface NatsSinkConfig {
  readonly kind: 'nats';
  readonly key: string;
  /** nats://host:port, with user and password when given. */
  readonly server: string;
  readonly user?: string;
  readonly pass?: string;
  /** nats://<token>@host: a user without a password is a token, as the NATS tools and clients read it. */
  readonly token?: string;
  /** JetStream stream, created (on `<subject>.>`) when absent. */
  readonly stream: string;
  /** Subjects are `<subject>.<name>.v1`, e.g. stagecraft.opportunity.stage-changed.v1. */
  readonly subject: string;
}

/** What amqplib connects with, read from the URL here (amqplib's own reading of a URL decodes its credentials as Latin-1). */
export interface AmqpConnectOptions {
  readonly protocol: 'amqp' | 'amqps';
  readonly hostname: string;
  readonly port: number;
  /** Both absent when the URL names no credentials: amqplib then logs in as guest/guest. */
  readonly username?: string;
  readonly password?: string;
  /** As written in the path, still percent-encoded: amqplib decodes it (as UTF-8); empty is "/". */
  readonly vhost: string;
  readonly heartbeat?: number;
  readonly frameMax?: number;
  readonly channelMax?: number;
  readonly locale?: string;
}

export interface AmqpSinkConfig {
  readonly kind: 'amqp';
  readonly key: string;
  readonly connect: AmqpConnectOptions;
  /** Durable topic exchange; routing key = the event type. */
  readonly exchange: string;
}

export interface WebhookSinkConfig {
  readonly kind: 'webhook';
  readonly key: string;
  /** The URL as given: POSTed to, query included. */
  readonly url: string;
}

export type SinkConfig = NatsSinkConfig | AmqpSinkConfig | WebhookSinkConfig;

/** A sink URL that cannot be used; the message names the URL (without its password) and why. */
export class RelaySinkUrlError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`sink "${url}": ${reason}`);
    this.name = 'RelaySinkUrlError';
  }
}

const NAME = /^[A-Za-z0-9_-]+$/;
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** AMQP 0-9-1 sends exchange names, vhosts and locales as short strings: a length byte, so 255 bytes at most. */
const AMQP_SHORT_STRING_BYTES = 255;
/** JetStream refuses a longer stream name ("stream name is too long, maximum allowed is 255"). */
const NATS_STREAM_NAME_BYTES = 255;
/**
 * A NATS server reads a publish's subject, reply subject and sizes in one control line, 4096 bytes
 * by default (max_control_line); a longer one is never acknowledged, and the relay would retry it
 * for ever. The prefix is bounded well below, leaving room for the event name and the reply inbox.
 */
const NATS_SUBJECT_PREFIX_BYTES = 1024;
/** AMQP's tune frame: channel-max and heartbeat are 16-bit, frame-max 32-bit and 0 (no limit) or at least 4096 (frame-min-size). */
const AMQP_TUNE_LIMITS = { heartbeat: 65_535, channelMax: 65_535, frameMax: 4_294_967_295 } as const;
const AMQP_FRAME_MIN_SIZE = 4_096;
/**
 * RabbitMQ reads connection.start-ok, which carries the login (SASL PLAIN: a long string, no 255
 * limit of its own), before the connection is tuned: in one frame of at most 4096 bytes (its
 * initial_frame_max, AMQP's frame-min-size), closing the connection on a longer one, at every
 * attempt. Beside the login and the locale the frame holds amqplib's client properties (product,
 * version, platform, capabilities, our connection_name) and the method's fields: 337 bytes with
 * amqplib 2.3 on Node 20, so 512 are kept for them; the locale counts in full.
 */
const AMQP_LOGIN_FRAME_BYTES = AMQP_FRAME_MIN_SIZE - 512;

/** Parses RELAY_SINKS: comma-separated URLs; two URLs naming the same sink are refused. */
export function parseSinkList(text: string | undefined): SinkConfig[] {
  if (text === undefined || text.trim() === '') return [];
  const sinks = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseSinkUrl);
  const seen = new Set<string>();
  for (const sink of sinks) {
    if (seen.has(sink.key)) {
      // Its checkpoint and dead letters are kept under the key: two sinks under one would share them.
      const why = sink.kind === 'webhook' ? 'is listed twice (webhook URLs that differ only in their query are one sink: its checkpoint is kept under the URL without its query; give each its own path)' : 'is listed twice';
      throw new RelaySinkUrlError(sink.key, why);
    }
    seen.add(sink.key);
  }
  return sinks;
}

/**
 * A NATS or AMQP URL with an "@" after a "/", "?" or "#": a user, password or token holding one of
 * those, not percent-encoded (a base64 token: ab/cd+ef=), ends the URL's host part there, and the
 * rest of the secret would be read as the host, a path, a query or a fragment, and shown as such.
 */
const UNENCODED_IN_CREDENTIALS = /^(?:nats|amqps?):\/\/[^/?#]*[/?#][^]*@/i;

/** The schemes whose URLs carry credentials, before the last "@" (an e-mail address as the user keeps its own). */
const WITH_CREDENTIALS = /^(?:nats|amqps?):\/\//i;

/** What stands between "scheme://" and the last "@" of a NATS or AMQP URL (as the URL parser reads it), or undefined. */
function userInfoOf(text: string): string | undefined {
  const scheme = WITH_CREDENTIALS.exec(text);
  const at = text.lastIndexOf('@');
  return scheme !== null && at >= scheme[0].length ? text.slice(scheme[0].length, at) : undefined;
}

export function parseSinkUrl(text: string): SinkConfig {
  if (UNENCODED_IN_CREDENTIALS.test(text)) {
    throw new RelaySinkUrlError(
      withoutPassword(text),
      'has an "@" after a "/", "?" or "#": a user, password or token holding one of those must write it percent-encoded (%2F, %3F, %23), as must a vhost holding an "@" (%40)',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelaySinkUrlError(withoutPassword(text), 'is not a URL (expected nats://host:port, amqp://user:pass@host:port or https://host/path)');
  }
  const shown = withoutPassword(text);
  switch (url.protocol) {
    case 'nats:':
      return natsSink(url, shown, text);
    case 'amqp:':
    case 'amqps:':
      return amqpSink(url, shown);
    case 'https:':
    case 'http:':
      return webhookSink(url, shown);
    default:
      throw new RelaySinkUrlError(shown, `unknown scheme "${url.protocol}" (use nats://, amqp://, amqps://, https://, or http:// for a loopback address)`);
  }
}

function natsSink(url: URL, shown: string, text: string): NatsSinkConfig {
  checkAddress(url, shown);
  if (url.pathname !== '' && url.pathname !== '/') throw new RelaySinkUrlError(shown, 'a NATS URL has no path; name the stream with ?stream=');
  const options = onlyOptions(url, shown, ['stream', 'subject']);
  const stream = options.get('stream') ?? DEFAULT_NATS_STREAM;
  if (!NAME.test(stream)) throw new RelaySinkUrlError(shown, `stream "${stream}" may hold only letters, digits, "-" and "_"`);
  if (stream.length > NATS_STREAM_NAME_BYTES) throw new RelaySinkUrlError(shown, `stream name is ${stream.length} bytes long: JetStream takes at most ${NATS_STREAM_NAME_BYTES}`);
  const subject = options.get('subject') ?? PUBLIC_EVENT_TYPE_PREFIX;
  if (!SUBJECT.test(subject)) throw new RelaySinkUrlError(shown, `subject "${subject}" must be dot-separated tokens of letters, digits, "-" and "_" (no wildcards)`);
  if (subject.length > NATS_SUBJECT_PREFIX_BYTES) {
    throw new RelaySinkUrlError(shown, `subject is ${subject.length} bytes long: at most ${NATS_SUBJECT_PREFIX_BYTES}, so that each event's subject fits in a NATS server's control line (4096 bytes by default)`);
  }
  const port = url.port || '4222';
  return {
    kind: 'nats',
    key: `nats://${url.hostname}:${port}?stream=${stream}&subject=${subject}`,
    server: `${url.hostname}:${port}`,
    ...natsCredentials(url, shown, text),
    stream,
    subject,
  };
}

// user:pass@ logs in as a user; <token>@ alone (no ":") carries a token, as nats:// URLs do in the NATS tools and clients.
function natsCredentials(url: URL, shown: string, text: string): Pick<NatsSinkConfig, 'user' | 'pass' | 'token'> {
  if (url.username === '' && url.password === '') return {};
  const user = percentDecoded(url.username, shown);
  // Read from the text: new URL() drops a ":" with nothing after it, and "user:@" is a user with an
  // empty password. Up to the last "@", as the URL does: an e-mail address as the user is no token.
  const withColon = userInfoOf(text)?.includes(':') === true;
  return withColon ? { user, pass: percentDecoded(url.password, shown) } : { token: user };
}

function amqpSink(url: URL, shown: string): AmqpSinkConfig {
  checkAddress(url, shown);
  // Ours, then those amqplib reads from the URL: a misspelt one (exchage=) must not be ignored.
  onlyOptions(url, shown, ['exchange', 'heartbeat', 'frameMax', 'channelMax', 'locale'], ['heartbeat', 'frameMax', 'channelMax']);
  const exchange = url.searchParams.get('exchange') ?? DEFAULT_AMQP_EXCHANGE;
  if (!/^[A-Za-z0-9_.:-]+$/.test(exchange) || exchange.startsWith('amq.')) throw new RelaySinkUrlError(shown, `exchange "${exchange}" must be letters, digits, "-", "_", ".", ":" and not start with "amq."`);
  if (exchange.length > AMQP_SHORT_STRING_BYTES) throw new RelaySinkUrlError(shown, `exchange name is ${exchange.length} bytes long: AMQP takes at most ${AMQP_SHORT_STRING_BYTES}`);
  checkAmqpConnectOptions(url, shown);
  const vhost = url.pathname === '' ? '/' : url.pathname;
  const port = url.port || (url.protocol === 'amqps:' ? '5671' : '5672');
  const number = (name: string) => (url.searchParams.has(name) ? { [name]: Number(url.searchParams.get(name)) } : {});
  const connect: AmqpConnectOptions = {
    protocol: url.protocol === 'amqps:' ? 'amqps' : 'amqp',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(port),
    // Percent-encoded UTF-8, as the URL parser writes a raw "ä" too.
    ...(url.username !== '' || url.password !== '' ? { username: percentDecoded(url.username, shown), password: percentDecoded(url.password, shown) } : {}),
    vhost: url.pathname.slice(1),
    ...number('heartbeat'),
    ...number('frameMax'),
    ...number('channelMax'),
    ...(url.searchParams.has('locale') ? { locale: url.searchParams.get('locale')! } : {}),
  };
  checkAmqpLogin(connect, shown);
  return {
    kind: 'amqp',
    key: `${url.protocol}//${url.hostname}:${port}${vhost}?exchange=${exchange}`,
    connect,
    exchange,
  };
}

/**
 * What the broker would refuse only once connected (each attempt, for ever): fields AMQP sends as
 * short strings longer than 255 bytes, and tune values out of their range. The vhost is measured as
 * amqplib sends it (decoded with querystring.unescape, UTF-8).
 */
function checkAmqpConnectOptions(url: URL, shown: string): void {
  const vhostBytes = Buffer.byteLength(amqplibUnescape(url.pathname.slice(1)));
  if (vhostBytes > AMQP_SHORT_STRING_BYTES) throw new RelaySinkUrlError(shown, `vhost is ${vhostBytes} bytes long (decoded): AMQP takes at most ${AMQP_SHORT_STRING_BYTES}`);
  const locale = url.searchParams.get('locale');
  if (locale !== null) {
    const localeBytes = Buffer.byteLength(locale);
    if (localeBytes > AMQP_SHORT_STRING_BYTES) throw new RelaySinkUrlError(shown, `locale is ${localeBytes} bytes long: AMQP takes at most ${AMQP_SHORT_STRING_BYTES} (e.g. en_US, the default)`);
  }
  for (const [name, max] of Object.entries(AMQP_TUNE_LIMITS)) {
    const text = url.searchParams.get(name);
    if (text === null) continue;
    const value = Number(text);
    if (value > max) throw new RelaySinkUrlError(shown, `gives ${name}=${text}: AMQP takes at most ${max}`);
    if (name === 'frameMax' && value > 0 && value < AMQP_FRAME_MIN_SIZE) {
      throw new RelaySinkUrlError(shown, `gives frameMax=${text}: AMQP takes 0 (the broker's limit) or at least ${AMQP_FRAME_MIN_SIZE} (its smallest frame)`);
    }
  }
}

/**
 * The login as amqplib sends it (SASL PLAIN: NUL, user, NUL, password), which the broker would
 * refuse at every attempt: a NUL inside either (it would read another user and password), or more
 * bytes, with the locale, than the one frame it reads them in before tuning (AMQP_LOGIN_FRAME_BYTES).
 */
function checkAmqpLogin(connect: AmqpConnectOptions, shown: string): void {
  const { username = 'guest', password = 'guest', locale = 'en_US' } = connect;
  if (username.includes('\0') || password.includes('\0')) {
    throw new RelaySinkUrlError(shown, 'its user or password holds a NUL (%00): the login (SASL PLAIN) separates them with NUL, so the broker would read another user and password and refuse every attempt');
  }
  const loginBytes = Buffer.byteLength(username) + Buffer.byteLength(password);
  const localeBytes = Buffer.byteLength(locale);
  if (loginBytes + localeBytes > AMQP_LOGIN_FRAME_BYTES) {
    throw new RelaySinkUrlError(
      shown,
      `its user and password are ${loginBytes} bytes together (decoded), and its locale ${localeBytes}${connect.locale === undefined ? ' (en_US)' : ''}: RabbitMQ reads them in one frame of ${AMQP_FRAME_MIN_SIZE} bytes before the connection is tuned, which leaves them ${AMQP_LOGIN_FRAME_BYTES - localeBytes} bytes`,
    );
  }
}

function webhookSink(url: URL, shown: string): WebhookSinkConfig {
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new RelaySinkUrlError(shown, 'webhooks need https:// (http:// only for a loopback address such as 127.0.0.1 or localhost)');
  }
  if (url.username !== '' || url.password !== '') throw new RelaySinkUrlError(shown, 'a webhook URL carries no credentials: requests are signed with RELAY_WEBHOOK_SECRET');
  checkAddress(url, shown);
  return { kind: 'webhook', key: `${url.origin}${url.pathname}`, url: url.href };
}

/** A host, and a port something can listen on: port 0 would fail every attempt, for ever, rather than stop start-up. */
function checkAddress(url: URL, shown: string): void {
  if (url.hostname === '') throw new RelaySinkUrlError(shown, 'has no host');
  if (url.port === '0') throw new RelaySinkUrlError(shown, 'port 0 names no port a server listens on; give the port of the server (or none for the default)');
}

/** A URL's user or password as sent to the server; one a "%" in it cannot be decoded is refused naming the sink (it was a bare URIError and its stack). */
function percentDecoded(part: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RelaySinkUrlError(shown, 'its credentials (user, password or token) are not valid percent-encoding (write "%" as %25, and each other reserved character as its %XX escape)');
  }
}

function onlyOptions(url: URL, shown: string, allowed: readonly string[], numbers: readonly string[] = []): URLSearchParams {
  const seen = new Set<string>();
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) throw new RelaySinkUrlError(shown, `unknown option "${name}" (known: ${allowed.join(', ')})`);
    // Given twice, one would be read and the other ignored, silently.
    if (seen.has(name)) throw new RelaySinkUrlError(shown, `gives the option "${name}" twice`);
    seen.add(name);
    if (numbers.includes(name) && !/^\d{1,10}$/.test(value)) throw new RelaySinkUrlError(shown, `gives ${name}=${value}: it must be a whole number in decimal digits`);
  }
  return url.searchParams;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The URL as written, with the password (between "user:" and the last "@"), or a NATS token, replaced by "***". */
export function withoutPassword(text: string): string {
  const userInfo = userInfoOf(text);
  // A webhook URL carries no credentials (refused), and may hold an "@" in its query.
  if (userInfo === undefined) return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^/]*@/i, '$1:***@');
  const [scheme] = WITH_CREDENTIALS.exec(text)!;
  const host = text.slice(scheme.length + userInfo.length);
  // Credentials the URL cannot tell from what follows them ("/", "?" or "#" unencoded): everything
  // before the last "@" is hidden, the user too, as no one can say where the secret ends.
  if (UNENCODED_IN_CREDENTIALS.test(text)) return `${scheme}***${host}`;
  // The user up to the first ":" (as the URL parser reads it), the password after it.
  const colon = userInfo.indexOf(':');
  if (colon >= 0) return `${scheme}${userInfo.slice(0, colon)}:***${host}`;
  // A NATS user without a password is a token: all of it is the secret.
  return /^nats:/i.test(scheme) ? `${scheme}***${host}` : text;
}

/**
 * The sink a `--sink` argument names: its key, or a URL that parses to the same key (so the
 * URL as written in RELAY_SINKS works too).
 */
export function findSink<T extends { readonly key: string }>(sinks: readonly T[], name: string): T | undefined {
  const direct = sinks.find((sink) => sink.key === name);
  if (direct) return direct;
  try {
    const key = parseSinkUrl(name).key;
    return sinks.find((sink) => sink.key === key);
  } catch {
    return undefined;
  }
}
