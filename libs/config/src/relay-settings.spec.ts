import { readSettings, SettingsError } from './settings';

const SECRET = 's'.repeat(32);
const read = (env: Record<string, string>) => readSettings(env, '/srv/stagecraft').relay;
const refusal = (env: Record<string, string>) => {
  try {
    read(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('expected the settings to be refused');
};

/** A valid value of each relay setting, so that only its having no effect is refused. */
const VALID: Record<string, string> = {
  RELAY: 'external',
  RELAY_STATE_PATH: '/var/lib/sc/relay.db',
  RELAY_NEW_SINK_FROM: 'beginning',
  RELAY_RETRY_BASE_MS: '100',
  RELAY_RETRY_MAX_MS: '1000',
  RELAY_WEBHOOK_SECRET: SECRET,
  RELAY_WEBHOOK_SECRETS: '{}',
  RELAY_WEBHOOK_MAX_ATTEMPTS: '3',
  RELAY_WEBHOOK_TIMEOUT_MS: '5000',
};
const RELAY_ONLY = ['RELAY', 'RELAY_STATE_PATH', 'RELAY_NEW_SINK_FROM', 'RELAY_RETRY_BASE_MS', 'RELAY_RETRY_MAX_MS'];
const WEBHOOK_ONLY = ['RELAY_WEBHOOK_SECRET', 'RELAY_WEBHOOK_SECRETS', 'RELAY_WEBHOOK_MAX_ATTEMPTS', 'RELAY_WEBHOOK_TIMEOUT_MS'];

describe('the relay settings (RELAY_*)', () => {
  it('run no relay without RELAY_SINKS, and keep the state beside the event store', () => {
    expect(read({})).toMatchObject({ sinks: [], mode: 'in-process', newSinkFrom: 'end', statePath: '/srv/stagecraft/data/relay.db' });
    expect(read({ EVENT_STORE_PATH: '/var/lib/sc/events.db' }).statePath).toBe('/var/lib/sc/relay.db');
    // Empty or blank: unset.
    for (const blank of ['', '  ']) expect(read({ RELAY_SINKS: blank }).sinks).toEqual([]);
  });

  it('read several sinks, with their defaults, and name each by its URL without credentials', () => {
    const relay = read({
      RELAY_SINKS: 'nats://127.0.0.1:4222, amqp://guest:guest@127.0.0.1:5672?exchange=events ,https://hooks.example/x?token=abc',
      RELAY_WEBHOOK_SECRET: SECRET,
    });
    expect(relay.sinks.map((sink) => sink.key)).toEqual([
      'nats://127.0.0.1:4222?stream=STAGECRAFT&subject=stagecraft.opportunity',
      'amqp://127.0.0.1:5672/?exchange=events',
      'https://hooks.example/x',
    ]);
    expect(relay.sinks[1]).toMatchObject({ kind: 'amqp', exchange: 'events', connect: { protocol: 'amqp', hostname: '127.0.0.1', port: 5672, username: 'guest', password: 'guest', vhost: '' } });
    expect(relay.sinks[2]).toMatchObject({ kind: 'webhook', url: 'https://hooks.example/x?token=abc' });
    expect(relay.webhookSecrets).toEqual({ 'https://hooks.example/x': [SECRET] });
  });

  it('read a NATS user and password, or a token, up to the last "@" as the URL does', () => {
    const [withPassword, token, emptyPassword] = read({ RELAY_SINKS: 'nats://relay@example.com:s3cret@127.0.0.1:4222,nats://tok@en@127.0.0.2,nats://relay:@127.0.0.3' }).sinks;
    expect(withPassword).toMatchObject({ user: 'relay@example.com', pass: 's3cret' });
    expect(withPassword).not.toHaveProperty('token');
    expect(token).toMatchObject({ token: 'tok@en' });
    expect(emptyPassword).toMatchObject({ user: 'relay', pass: '' });
  });

  it.each([
    [{ RELAY_SINKS: ' , ' }, 'RELAY_SINKS: lists no sink (got " , ")'],
    [{ RELAY_SINKS: ',' }, 'RELAY_SINKS: lists no sink'],
    [{ RELAY_SINKS: 'kafka://broker:9092' }, 'RELAY_SINKS: sink "kafka://broker:9092": unknown scheme "kafka:"'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222,not a url' }, 'RELAY_SINKS: sink "not a url": is not a URL'],
    [{ RELAY_SINKS: 'http://hooks.example/x', RELAY_WEBHOOK_SECRET: SECRET }, 'RELAY_SINKS: sink "http://hooks.example/x": webhooks need https://'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222?stream=a.b' }, 'stream "a.b" may hold only letters'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222?subject=a.*' }, 'subject "a.*" must be dot-separated tokens'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222?streem=x' }, 'unknown option "streem"'],
    [{ RELAY_SINKS: 'amqp://guest:topsecret@127.0.0.1?exchage=events' }, 'sink "amqp://guest:***@127.0.0.1?exchage=events": unknown option "exchage"'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?heartbeat=1e3' }, 'gives heartbeat=1e3: it must be a whole number in decimal digits'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?channelMax=-1' }, 'gives channelMax=-1'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222?stream=A&stream=B' }, 'gives the option "stream" twice'],
    // Refused only once connected (each attempt, for ever): said at start-up instead.
    [{ RELAY_SINKS: 'amqp://127.0.0.1?frameMax=1' }, 'sink "amqp://127.0.0.1?frameMax=1": gives frameMax=1: AMQP takes 0 (the broker\'s limit) or at least 4096'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?frameMax=4095' }, 'gives frameMax=4095: AMQP takes 0'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?frameMax=4294967296' }, 'gives frameMax=4294967296: AMQP takes at most 4294967295'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?heartbeat=65536' }, 'gives heartbeat=65536: AMQP takes at most 65535'],
    [{ RELAY_SINKS: 'amqp://127.0.0.1?channelMax=70000' }, 'gives channelMax=70000: AMQP takes at most 65535'],
    [{ RELAY_SINKS: `amqp://127.0.0.1?exchange=${'e'.repeat(256)}` }, 'exchange name is 256 bytes long: AMQP takes at most 255'],
    [{ RELAY_SINKS: `amqp://127.0.0.1/${'%C3%A4'.repeat(128)}` }, 'vhost is 256 bytes long (decoded): AMQP takes at most 255'],
    [{ RELAY_SINKS: `amqp://127.0.0.1?locale=${'l'.repeat(256)}` }, 'locale is 256 bytes long: AMQP takes at most 255'],
    // The login: SASL PLAIN separates user and password with NUL, and RabbitMQ reads it in one frame of 4096 bytes before tuning.
    [{ RELAY_SINKS: 'amqp://relay:pa%00ss@127.0.0.1' }, 'sink "amqp://relay:***@127.0.0.1": its user or password holds a NUL (%00)'],
    [{ RELAY_SINKS: 'amqp://re%00lay:pass@127.0.0.1' }, 'its user or password holds a NUL (%00)'],
    [{ RELAY_SINKS: `nats://127.0.0.1:4222?stream=${'s'.repeat(256)}` }, 'stream name is 256 bytes long: JetStream takes at most 255'],
    [{ RELAY_SINKS: `nats://127.0.0.1:4222?subject=${'a.'.repeat(600)}z` }, 'subject is 1201 bytes long: at most 1024'],
    [{ RELAY_SINKS: 'amqp://guest:topsecret@127.0.0.1?exchange=amq.topic' }, 'sink "amqp://guest:***@127.0.0.1?exchange=amq.topic": exchange "amq.topic"'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222,nats://127.0.0.1' }, 'is listed twice'],
    [{ RELAY_SINKS: 'https://hooks.example/x?team=a,https://hooks.example/x?team=b', RELAY_WEBHOOK_SECRET: SECRET }, 'sink "https://hooks.example/x": is listed twice (webhook URLs that differ only in their query are one sink'],
    [{ RELAY_SINKS: 'https://hooks.example/x' }, 'RELAY_WEBHOOK_SECRET: is needed to sign the requests to the webhook https://hooks.example/x'],
    [{ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRET: 'short' }, 'RELAY_WEBHOOK_SECRET: must be at least 32 characters'],
    [{ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRET: ' '.repeat(40) }, 'RELAY_WEBHOOK_SECRET: must be at least 32 characters'],
    [{ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'https://hooks.example/x': ' '.repeat(40) }) }, 'the secret of https://hooks.example/x must be a string of at least 32 characters'],
    [{ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: '{"https://other.example/y":"' + SECRET + '"}' }, 'names "https://other.example/y", which is not a webhook in RELAY_SINKS'],
    [{ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: '{oops' }, 'RELAY_WEBHOOK_SECRETS: is not JSON'],
    // NATS credentials are percent-decoded before they are sent: a "%" that starts no escape cannot be
    // (it stopped start-up with a bare "URIError: URI malformed" and its stack).
    [{ RELAY_SINKS: 'nats://relay:topsecret%ZZ@127.0.0.1:4222' }, 'sink "nats://relay:***@127.0.0.1:4222": its credentials (user, password or token) are not valid percent-encoding'],
    [{ RELAY_SINKS: 'nats://relay%E0%A4@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": its credentials (user, password or token) are not valid percent-encoding'],
    [{ RELAY_SINKS: 'amqp://guest:topsecret%ZZ@127.0.0.1' }, 'sink "amqp://guest:***@127.0.0.1": its credentials (user, password or token) are not valid percent-encoding'],
    // A NATS user without a password is a token: never shown.
    [{ RELAY_SINKS: 'nats://topsecret@127.0.0.1:4222?streem=x' }, 'sink "nats://***@127.0.0.1:4222?streem=x": unknown option "streem"'],
    // A secret holding "/", "?" or "#" not percent-encoded (a base64 token: ab/cd+ef=) ends the URL's
    // host part there: the rest was read as a host, path, query or fragment, and shown as such.
    [{ RELAY_SINKS: 'nats://topsecret/x+y=@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": has an "@" after a "/", "?" or "#"'],
    [{ RELAY_SINKS: 'nats://topsecret?x@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": has an "@" after a "/", "?" or "#"'],
    // Taken before as a sink on the host "topsecret" (the rest a fragment), retried for ever.
    [{ RELAY_SINKS: 'nats://topsecret#x@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": has an "@" after a "/", "?" or "#"'],
    [{ RELAY_SINKS: 'nats://relay:topsecret/x@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": has an "@" after a "/", "?" or "#"'],
    [{ RELAY_SINKS: 'amqp://guest:topsecret/x@127.0.0.1' }, 'sink "amqp://***@127.0.0.1": has an "@" after a "/", "?" or "#"'],
    [{ RELAY_SINKS: 'AMQPS://guest:topsecret?x@127.0.0.1' }, 'sink "AMQPS://***@127.0.0.1": has an "@" after a "/", "?" or "#"'],
    // A user that is an e-mail address, its "@" written raw: the URL reads user and password up to
    // the last "@", and so must the masking (it showed the password).
    [{ RELAY_SINKS: 'nats://relay@example.com:topsecret@127.0.0.1:4222?streem=x' }, 'sink "nats://relay@example.com:***@127.0.0.1:4222?streem=x": unknown option "streem"'],
    [{ RELAY_SINKS: 'amqp://relay@example.com:topsecret@127.0.0.1?exchage=x' }, 'sink "amqp://relay@example.com:***@127.0.0.1?exchage=x": unknown option "exchage"'],
    // A "/" behind a first "@" still ends the host part before the last one.
    [{ RELAY_SINKS: 'nats://top@secret/x@127.0.0.1:4222' }, 'sink "nats://***@127.0.0.1:4222": has an "@" after a "/", "?" or "#"'],
    // Port 0 names no port anything listens on: every attempt would fail, for ever.
    [{ RELAY_SINKS: 'nats://127.0.0.1:0' }, 'sink "nats://127.0.0.1:0": port 0'],
    [{ RELAY_SINKS: 'amqp://guest:topsecret@127.0.0.1:0' }, 'sink "amqp://guest:***@127.0.0.1:0": port 0'],
    [{ RELAY_SINKS: 'https://hooks.example:0/x', RELAY_WEBHOOK_SECRET: SECRET }, 'sink "https://hooks.example:0/x": port 0'],
    // The longest wait below the first one: said against the setting it is bound to, not as a bare range.
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_RETRY_MAX_MS: '100' }, 'RELAY_RETRY_MAX_MS: must be an integer of at least RELAY_RETRY_BASE_MS (500, its default) and at most 3600000 (got "100")'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_RETRY_BASE_MS: '2000', RELAY_RETRY_MAX_MS: '1000' }, 'RELAY_RETRY_MAX_MS: must be an integer of at least RELAY_RETRY_BASE_MS (2000) and at most 3600000 (got "1000")'],
    // Not a number, or 0: the same bound, not "from 1", which 1 would then break.
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_RETRY_MAX_MS: '0' }, 'RELAY_RETRY_MAX_MS: must be an integer of at least RELAY_RETRY_BASE_MS (500, its default) and at most 3600000 (got "0")'],
    [{ RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_RETRY_BASE_MS: '2000', RELAY_RETRY_MAX_MS: '30s' }, 'RELAY_RETRY_MAX_MS: must be an integer of at least RELAY_RETRY_BASE_MS (2000) and at most 3600000 (got "30s")'],
    [{ RELAY: 'both' }, 'RELAY: must be "in-process" or "external"'],
    [{ RELAY_NEW_SINK_FROM: 'now' }, 'RELAY_NEW_SINK_FROM: must be "end" or "beginning"'],
    [{ RELAY_WEBHOOK_MAX_ATTEMPTS: '0' }, 'RELAY_WEBHOOK_MAX_ATTEMPTS: must be an integer from 1 to 100'],
    // Settings with nothing to apply to: RELAY_SINKS left out (or misspelt), or no webhook among the sinks.
    ...[...RELAY_ONLY, ...WEBHOOK_ONLY].map((variable) => [{ [variable]: VALID[variable]! }, `${variable}: has no effect without RELAY_SINKS`] as [Record<string, string>, string]),
    ...[...RELAY_ONLY, ...WEBHOOK_ONLY].map((variable) => [{ RELAY_SINK: 'nats://127.0.0.1:4222', [variable]: VALID[variable]! }, `${variable}: has no effect without RELAY_SINKS`] as [Record<string, string>, string]),
    ...WEBHOOK_ONLY.map((variable) => [{ RELAY_SINKS: 'nats://127.0.0.1:4222,amqp://127.0.0.1', [variable]: VALID[variable]! }, `${variable}: has no effect: RELAY_SINKS names no webhook`] as [Record<string, string>, string]),
  ])('refuse %j, naming the variable, the sink and the reason', (env, message) => {
    const text = refusal(env as Record<string, string>);
    expect(text).toContain(message);
    expect(text).not.toContain('topsecret');
  });

  it('refuse an AMQP login longer than RabbitMQ reads before the connection is tuned (one frame of 4096 bytes, with the locale), counting decoded bytes', () => {
    const ok = (user: string, password: string, query = '') => read({ RELAY_SINKS: `amqp://${user}:${password}@127.0.0.1${query}` }).sinks[0];
    // 4096 − 512 for what the frame holds beside them, less the locale (en_US: 5 bytes).
    expect(ok('relay', 'p'.repeat(3579 - 5))).toMatchObject({ kind: 'amqp' });
    expect(refusal({ RELAY_SINKS: `amqp://relay:${'p'.repeat(3575)}@127.0.0.1` })).toContain(
      'sink "amqp://relay:***@127.0.0.1": its user and password are 3580 bytes together (decoded), and its locale 5 (en_US): RabbitMQ reads them in one frame of 4096 bytes before the connection is tuned, which leaves them 3579 bytes',
    );
    expect(refusal({ RELAY_SINKS: `amqp://relay:${'%C3%A4'.repeat(1700)}@127.0.0.1?locale=${'l'.repeat(200)}` })).toContain('its user and password are 3405 bytes together (decoded), and its locale 200');
    expect(ok('relay', '%C3%A4'.repeat(1687), `?locale=${'l'.repeat(200)}`)).toMatchObject({ kind: 'amqp' });
  });

  it.each([
    ['a comma too many', `{"https://hooks.example/x": "topsecret-0123456789abcdefghijklmnop",}`],
    ['a secret without quotes', `{"https://hooks.example/x": topsecret-0123456789abcdefghijklmnop}`],
    ['a secret without its opening quote', `{"https://hooks.example/x": topsecret-0123456789abcdefghijklmnop"}`],
    ['a secret written where its URL goes', `{"topsecret-0123456789abcdefghijklmnop": "https://hooks.example/x"}`],
    ['a URL whose query holds a token', `{"https://hooks.example/y?token=topsecret": "${'s'.repeat(32)}"}`],
  ])('refuse RELAY_WEBHOOK_SECRETS with %s without repeating any part of a secret', (_case, secrets) => {
    const text = refusal({ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: secrets });
    expect(text).toContain('RELAY_WEBHOOK_SECRETS');
    expect(text).not.toMatch(/topse|topsecret|0123456789|ghijklm/);
  });

  it.each([
    ['the same URL twice', `{"https://hooks.example/x": "${'a'.repeat(32)}", "https://hooks.example/x": "${'b'.repeat(32)}"}`],
    ['the URL with and without a query', `{"https://hooks.example/x": "${'a'.repeat(32)}", "https://hooks.example/x?team=b": "${'b'.repeat(32)}"}`],
  ])('refuse RELAY_WEBHOOK_SECRETS giving one webhook two secrets (%s) rather than keep one in silence', (_case, secrets) => {
    const text = refusal({ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: secrets });
    expect(text).toContain('RELAY_WEBHOOK_SECRETS: gives the webhook https://hooks.example/x two secrets');
    expect(text).not.toMatch(/aaaa|bbbb/);
  });

  // Signed with as given, a secret read from a file with its line end verifies for no subscriber
  // that trims it (most do): every request refused, every event dead-lettered.
  it.each([
    ['RELAY_WEBHOOK_SECRET', { RELAY_WEBHOOK_SECRET: `${SECRET}topsecret\n` }, 'RELAY_WEBHOOK_SECRET: the secret ends with a newline'],
    ['RELAY_WEBHOOK_SECRET', { RELAY_WEBHOOK_SECRET: `${SECRET}topsecret\r\n` }, 'RELAY_WEBHOOK_SECRET: the secret ends with a Windows line end (CR LF)'],
    ['RELAY_WEBHOOK_SECRET', { RELAY_WEBHOOK_SECRET: ` ${SECRET}topsecret` }, 'RELAY_WEBHOOK_SECRET: the secret starts with a space'],
    ['RELAY_WEBHOOK_SECRET', { RELAY_WEBHOOK_SECRET: `${SECRET}topsecret\t` }, 'RELAY_WEBHOOK_SECRET: the secret ends with a tab'],
    ['RELAY_WEBHOOK_SECRET', { RELAY_WEBHOOK_SECRET: `\u00a0${SECRET}topsecret` }, 'RELAY_WEBHOOK_SECRET: the secret starts with a blank character (U+00A0)'],
    ['RELAY_WEBHOOK_SECRETS', { RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'https://hooks.example/x': `${SECRET}topsecret\n` }) }, 'RELAY_WEBHOOK_SECRETS: the secret of https://hooks.example/x ends with a newline'],
  ])('refuse a secret in %s with a blank at either end, naming where and what to remove', (_variable, env, message) => {
    const text = refusal({ RELAY_SINKS: 'https://hooks.example/x', ...env });
    expect(text).toContain(message);
    expect(text).toContain('remove it');
    expect(text).not.toContain('topsecret');
  });

  it('take each relay setting where a sink it applies to is named', () => {
    const relay = read({ ...VALID, RELAY_SINKS: 'nats://127.0.0.1:4222,https://hooks.example/x', RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'https://hooks.example/x': SECRET }) });
    expect(relay).toMatchObject({ mode: 'external', statePath: '/var/lib/sc/relay.db', newSinkFrom: 'beginning', retryBaseMs: 100, retryMaxMs: 1000, webhookMaxAttempts: 3, webhookTimeoutMs: 5000 });
    expect(read({ RELAY_SINKS: 'nats://127.0.0.1:4222', ...Object.fromEntries(RELAY_ONLY.map((variable) => [variable, VALID[variable]!])) }).mode).toBe('external');
  });

  it('give a webhook its own secret from RELAY_WEBHOOK_SECRETS, the others the shared one', () => {
    const own = 'o'.repeat(40);
    const relay = read({
      RELAY_SINKS: 'https://a.example/hook,http://127.0.0.1:8080/hook',
      RELAY_WEBHOOK_SECRET: SECRET,
      RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'http://127.0.0.1:8080/hook': own }),
    });
    expect(relay.webhookSecrets).toEqual({ 'https://a.example/hook': [SECRET], 'http://127.0.0.1:8080/hook': [own] });
  });

  it('take a list of secrets for a webhook in RELAY_WEBHOOK_SECRETS (a rotation: each signs), in the order given', () => {
    const [next, old] = ['n'.repeat(40), 'o'.repeat(40)];
    const relay = read({ RELAY_SINKS: 'https://a.example/hook,https://b.example/hook', RELAY_WEBHOOK_SECRET: SECRET, RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'https://a.example/hook': [next, old] }) });
    expect(relay.webhookSecrets).toEqual({ 'https://a.example/hook': [next, old], 'https://b.example/hook': [SECRET] });
  });

  it.each([
    ['an empty list', [], 'RELAY_WEBHOOK_SECRETS: the secrets of https://hooks.example/x are an empty list; give one secret, or a list of one or more'],
    ['a short one', ['topsecret-0123456789abcdefghijklmnop', 'topsecret'], 'RELAY_WEBHOOK_SECRETS: the secret 2 of https://hooks.example/x must be a string of at least 32 characters'],
    ['one that is not a string', ['topsecret-0123456789abcdefghijklmnop', 42], 'RELAY_WEBHOOK_SECRETS: the secret 2 of https://hooks.example/x must be a string of at least 32 characters'],
    ['one with a newline', ['topsecret-0123456789abcdefghijklmnop', 'topsecret-0123456789abcdefghijklmnoq\n'], 'RELAY_WEBHOOK_SECRETS: the secret 2 of https://hooks.example/x ends with a newline'],
    ['one twice', ['topsecret-0123456789abcdefghijklmnop', 'topsecret-0123456789abcdefghijklmnop'], 'RELAY_WEBHOOK_SECRETS: the secrets of https://hooks.example/x name one secret twice (1 and 2)'],
    ['a list in a list', [['topsecret-0123456789abcdefghijklmnop']], 'RELAY_WEBHOOK_SECRETS: the secret 1 of https://hooks.example/x must be a string'],
  ])('refuse a list of secrets with %s, without repeating any', (_case, list, message) => {
    const text = refusal({ RELAY_SINKS: 'https://hooks.example/x', RELAY_WEBHOOK_SECRETS: JSON.stringify({ 'https://hooks.example/x': list }) });
    expect(text).toContain(message);
    expect(text).not.toMatch(/topse|0123456789/);
  });
});
