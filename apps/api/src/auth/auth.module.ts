import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
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
import { clientAddressKey } from './client-address';

@Global()
@Module({})
export class AuthModule {
  static forRoot(settings: Settings): DynamicModule {
    const limited = settings.rateLimitPerMinute > 0;
    // Guards run in this order: authenticate first, so the rate limit counts per caller.
    const guards: Provider[] = [{ provide: APP_GUARD, useClass: AuthGuard }, ...(limited ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }] : [])];
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
      exports: [Authenticator],
    };
  }
}
