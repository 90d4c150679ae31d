import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { buildAsyncApiDocument } from '@stagecraft/public-events';
import { Public } from '../auth/roles';

const DOCUMENT = buildAsyncApiDocument();

/** The public events' contract (AsyncAPI 3), beside the OpenAPI document of the HTTP API. */
@ApiExcludeController()
@Public()
@Controller('docs')
export class AsyncApiController {
  @Get('asyncapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  document(): Record<string, unknown> {
    return DOCUMENT;
  }
}
