import { Logger } from '@nestjs/common';
import { ApiLogger, AUDIT_CONTEXT } from './start-up.logger';

describe('ApiLogger', () => {
  let written: string[];
  let restore: () => void;
  beforeEach(() => {
    written = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    Logger.overrideLogger(new ApiLogger());
    restore = () => {
      stdout.mockRestore();
      stderr.mockRestore();
      Logger.overrideLogger(new ApiLogger());
    };
  });
  afterEach(() => restore());

  it('says the audit lines, the warnings and the errors, and not the other informational lines', () => {
    new Logger(AUDIT_CONTEXT).log('Key 0123 revoked by "ops" (api-key:abcd)');
    new Logger('ApiKeys').log('API keys reloaded');
    new Logger('ApiKeys').warn('keys file unreadable');
    new Logger('HTTP').error('a failure');
    const text = written.join('');
    expect(text).toMatch(/\[Audit\].*Key 0123 revoked by "ops" \(api-key:abcd\)/);
    expect(text).not.toContain('API keys reloaded');
    expect(text).toContain('keys file unreadable');
    expect(text).toContain('a failure');
  });

  it('leaves out the start-up failures main.ts says itself', () => {
    new Logger('ExceptionHandler').error('Nest cannot start');
    expect(written.join('')).not.toContain('Nest cannot start');
  });
});
