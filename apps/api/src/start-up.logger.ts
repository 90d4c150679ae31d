import { ConsoleLogger } from '@nestjs/common';

// Contexts whose errors are failures to start, which Nest logs with their stack and then throws
// (abortOnError is off): main.ts says them once, in one line when they are the operator's to fix.
const REPORTED_BY_MAIN = new Set(['ExceptionHandler', 'NestApplication']);

/**
 * The context of what an operator must be able to trace back to a caller (keys made and revoked,
 * rebuilds started): said at any log level, as the warnings are.
 */
export const AUDIT_CONTEXT = 'Audit';

/** The API's logger: warnings, errors and the audit lines, except start-up failures main.ts reports itself. */
export class ApiLogger extends ConsoleLogger {
  constructor() {
    super();
    this.setLogLevels(['warn', 'error']);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : this.context;
    if (context === AUDIT_CONTEXT) this.printMessages([message], context, 'log', 'stdout');
    else super.log(message, ...rest);
  }

  override error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : this.context;
    if (typeof context === 'string' && REPORTED_BY_MAIN.has(context)) return;
    super.error(message, ...rest);
  }
}
