import { Global, Module, type CanActivate, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Settings } from '@stagecraft/config';
import { CLOCK, type Clock } from '../settings/api-settings.token';
import { ApiKeyStore } from './api-key.store';
import { ApiKeysController } from './api-keys.controller';
import { MeController } from './me.controller';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { AuthGuard, type AuthenticatedRequest } from './auth.guard';
import { Authenticator } from './authenticator.service';
import { KnownInputGuard } from '../http/known-input.guard';
import { clientAddressKey } from './client-address';

/** DI token of the guards every route runs, in the order they run (CanActivate[]). */
export const GLOBAL_GUARDS = Symbol('GLOBAL_GUARDS');

@Global()
@Module({})
export class AuthModule {
  static forRoot(settings: Settings): DynamicModule {
    const limited = settings.rateLimitPerMinute > 0;
    // Guards run in this order: authenticate first, so the rate limit counts per caller. Each is
    // also a provider of its own, and GLOBAL_GUARDS lists the same instances in the same order, for
    // the command routes Fastify serves directly (opportunities/direct-command.routes.ts).
    // Then the input a route does not read: unknown query names, a body (http/known-input.guard.ts).
    const guardClasses: Type<CanActivate>[] = [AuthGuard, ...(limited ? [ThrottlerGuard] : []), KnownInputGuard];
    const guards: Provider[] = [
      ...guardClasses,
      ...guardClasses.map((guard) => ({ provide: APP_GUARD, useExisting: guard })),
      { provide: GLOBAL_GUARDS, inject: guardClasses, useFactory: (...instances: CanActivate[]) => instances },
    ];
    return {
      module: AuthModule,
      imports: limited
        ? [
            ThrottlerModule.forRoot({
              throttlers: [{ name: 'default', ttl: 60_000, limit: settings.rateLimitPerMinute }],
              getTracker: (request: Record<string, unknown>) => {
                const { principal, ip } = request as unknown as AuthenticatedRequest;
                return principal ? `principal:${principal.authenticatedBy}:${principal.name}` : `ip:${clientAddressKey(ip)}`;
              },
              // One count per caller, whatever the route: the throttler's own key adds the controller
              // and handler, which made the limit RATE_LIMIT_PER_MINUTE per route (×30 routes).
              generateKey: (_context, tracker, throttlerName) => `${throttlerName}:${tracker}`,
            }),
          ]
        : [],
      controllers: [ApiKeysController, MeController],
      providers: [
        ApiKeyStore,
        Authenticator,
        { provide: AuthFailureLimiter, inject: [CLOCK], useFactory: (clock: Clock) => new AuthFailureLimiter(settings.authFailuresPerMinute, clock) },
        ...guards,
      ],
      exports: [Authenticator, GLOBAL_GUARDS],
    };
  }
}
