// The same kind of route as a Stagecraft command — Nest on Fastify, a class-validator DTO through
// the ValidationPipe, a UUID path parameter — answering a constant: what the framework costs alone.
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Param, ParseUUIDPipe, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';

class SetCriterionBody {
  @IsString()
  @Length(1, 64)
  criterionId!: string;

  @IsBoolean()
  met!: boolean;

  @IsOptional()
  @IsString()
  note?: string;
}

@Controller('opportunities')
class BaselineController {
  @Post(':id/criteria')
  @HttpCode(200)
  set(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: SetCriterionBody) {
    return { id, stage: 'qualification', status: 'open', revision: body.met ? 1 : 2, position: 1 };
  }
}

@Module({ controllers: [BaselineController] })
class BaselineModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BaselineModule, new FastifyAdapter(), { logger: ['error'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.getHttpAdapter().getInstance().get('/health', async () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}
void main();
