import { EventStoreAccessDeniedError, EventStoreFullError, EventStoreUnavailableError, SQLiteFileError, UnreadableEventError } from '@stagecraft/event-store';
import { ReadSideRebuildDidNotCureError, ReadSideUnrecordedError } from '@stagecraft/projections';
import { describeStartFailure } from './start-failure';
import { SettingsError } from './settings';

const listen = { host: '10.9.8.7', port: 4321 };
const systemError = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe('describeStartFailure', () => {
  it('gives the message of the errors an operator fixes', () => {
    expect(describeStartFailure(new SettingsError('PORT', 'must be a number'))).toBe('Invalid setting PORT: must be a number');
    expect(describeStartFailure(new SQLiteFileError('/x/events.db', 'EVENT_STORE_PATH', 'is damaged'))).toBe('/x/events.db (EVENT_STORE_PATH) is damaged');
    expect(describeStartFailure(new EventStoreUnavailableError('KurrentDB at esdb://x', 'not answering'))).toContain('not answering');
  });

  it('names the file and says to free space when start-up meets a full disk (a process version to record)', () => {
    expect(describeStartFailure(new EventStoreFullError('/x/events.db', 'database or disk is full'))).toBe(
      'The disk holding the event store /x/events.db is full (database or disk is full): nothing was written; free space on it and start again',
    );
  });

  it('names EVENT_STORE_URL when the KurrentDB server refuses its user (wrong credentials, or no rights on a stream)', () => {
    expect(describeStartFailure(new EventStoreAccessDeniedError('kurrentdb://***@db:2113', 'read "sales-process-standard"'))).toBe(
      'The event store kurrentdb://***@db:2113 denied this service\'s user the right to read "sales-process-standard" (EVENT_STORE_URL): give it a user and password the server accepts, with the right to read and write every stream',
    );
  });

  it('names the event and the command that locates the edit when start-up meets an event edited into something unreadable (a process version it reads)', () => {
    const error = new UnreadableEventError('sales-process-standard', 0, 2, 'its data is not JSON (Unexpected token)', 'e-1');
    expect(describeStartFailure(error)).toBe(`${error.message}. \`stagecraft verify --all\` lists what was altered; restore the event store from a backup taken before the edit`);
  });

  // Not "Invalid setting READ_MODELS_SCHEMA": the schema named is the read side's own, and right;
  // what is wrong is a table dropped by hand in it.
  it('says a read side whose schema_migrations was dropped by hand is the schema to mend, blaming no setting', () => {
    expect(describeStartFailure(new ReadSideUnrecordedError('sales'))).toBe(
      "The PostgreSQL read side cannot be used: the schema sales holds the read side's tables, but not schema_migrations, its record of the migrations applied to them (dropped by hand?): " +
        'without it no migration can be known to be there or not. The read models are derived from the event log: drop the schema (DROP SCHEMA sales CASCADE) and start again to build them anew, ' +
        'or restore schema_migrations from a backup of this database',
    );
  });

  // The same words as the projector's "The read models stopped:" line when following, not
  // PostgreSQL's bare error with a stack trace.
  it('says a rebuild at start-up that met the object missing again stops the read models, and what to do', () => {
    const error = new ReadSideRebuildDidNotCureError('sales', Object.assign(new Error('column "x" does not exist'), { code: '42703' }));
    expect(describeStartFailure(error)).toBe(
      "The read models stopped: the read models' schema sales met the same error again after it was rebuilt from the log (column \"x\" does not exist, SQLSTATE 42703): " +
        'a rebuild does not cure it, so the projector stopped rather than rebuild again for ever. Its SQL names an object the schema does not have: ' +
        'a projector of another Stagecraft version than the one that laid out the schema, or an extension, function or type of the database it relies on changed. ' +
        'Run the projector of the version the schema is for (or restore what changed), then rebuild the read models',
    );
  });

  it.each([
    ['EADDRINUSE', 'listen', 'PORT=4321'],
    ['EACCES', 'listen', 'PORT=4321'],
    ['EADDRNOTAVAIL', 'listen', 'HOST=10.9.8.7'],
    ['ENOTFOUND', 'getaddrinfo', 'HOST=10.9.8.7'],
  ])('names the setting behind a listen failure (%s)', (code, syscall, named) => {
    expect(describeStartFailure(systemError(code, syscall), listen)).toContain(named);
  });

  // Whatever the resolver answers for a HOST it cannot look up (a name too long is EINVAL, not
  // ENOTFOUND), the operator reads one line naming HOST, never a stack; a huge HOST is shown cut short.
  it.each(['EINVAL', 'EAI_NONAME', 'ENODATA', 'EAI_FAIL', 'ESERVFAIL'])('names HOST for any lookup failure (%s), its value cut short', (code) => {
    const described = describeStartFailure(systemError(code, 'getaddrinfo'), { host: 'h'.repeat(5_000), port: 4321 });
    expect(described).toMatch(/^HOST=h+… \(5000 characters\): not an address or a name this machine can resolve/);
    expect(described!.length).toBeLessThan(500);
  });

  it('leaves anything else (a bug) to be printed with its stack', () => {
    expect(describeStartFailure(new TypeError('x is undefined'), listen)).toBeUndefined();
    expect(describeStartFailure(systemError('EADDRINUSE', 'listen'))).toBeUndefined();
    expect(describeStartFailure(systemError('ENOENT', 'open'), listen)).toBeUndefined();
  });
});
