import { ParseUUIDPipe, type PipeTransform } from '@nestjs/common';

/** Nest's ParseUUIDPipe with its check and its refusal reachable without its (async) transform. */
class UuidCheck extends ParseUUIDPipe {
  check(value: unknown): string {
    // As ParseUUIDPipe.transform for a required UUID of any version: isUUID refuses a non-string itself.
    if (!this.isUUID(value)) throw this.exceptionFactory('Validation failed (uuid is expected)');
    return value as string;
  }
}

/**
 * A path parameter that must be a UUID: ParseUUIDPipe's own test and refusal (`exceptionFactory`),
 * answered at once rather than as a promise. Every command's id goes through it.
 */
export class UuidPipe implements PipeTransform<unknown, string> {
  private readonly uuid: UuidCheck;

  constructor(exceptionFactory: (reason: string) => unknown) {
    this.uuid = new UuidCheck({ exceptionFactory });
  }

  transform(value: unknown): string {
    return this.uuid.check(value);
  }
}
