import { Module, type OnModuleInit } from '@nestjs/common';
import { ProcessRegistry } from './process-registry.service';
import { ProcessesController } from './processes.controller';

@Module({
  controllers: [ProcessesController],
  providers: [ProcessRegistry],
  exports: [ProcessRegistry],
})
export class ProcessesModule implements OnModuleInit {
  constructor(private readonly registry: ProcessRegistry) {}

  // Definitions load before the app listens: a bad file stops start-up with file, field and reason.
  async onModuleInit(): Promise<void> {
    await this.registry.load();
  }
}
