// Where the end-to-end specs keep the read models. `npm test` runs the analytics specs twice: in
// memory (the default) and, as the jest project "e2e on postgres read models", in PostgreSQL
// (STAGECRAFT_E2E_READ_MODELS=postgres), each event store path with a schema of its own, dropped
// after the spec file.
import { Client } from 'pg';
import { dropReadSideSchemas, POSTGRES_TEST_URL, postgresInstalled } from '../../libs/projections/src/testing/postgres.testing';

export const E2E_READ_MODELS: 'memory' | 'postgres' = process.env.STAGECRAFT_E2E_READ_MODELS === 'postgres' ? 'postgres' : 'memory';

const schemas = new Map<string, string>();
let counter = 0;

if (E2E_READ_MODELS === 'postgres') {
  if (!postgresInstalled()) {
    console.warn('\n*** SKIPPED: the end-to-end specs on PostgreSQL read models need PostgreSQL, and none is installed here. CI never skips them. ***\n');
  }
  afterAll(async () => {
    if (schemas.size === 0) return;
    const client = new Client({ connectionString: POSTGRES_TEST_URL });
    await client.connect();
    try {
      for (const schema of schemas.values()) await dropReadSideSchemas(client, schema);
    } finally {
      await client.end();
    }
  });
}

/** The settings that put the read models of the store at this path in PostgreSQL (none in memory mode). */
export async function readModelsEnv(eventStorePath: string): Promise<{ READ_MODELS_URL?: string; READ_MODELS_SCHEMA?: string }> {
  if (E2E_READ_MODELS === 'memory') return {};
  let schema = schemas.get(eventStorePath);
  if (!schema) {
    schema = `e2e_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    schemas.set(eventStorePath, schema);
  }
  return { READ_MODELS_URL: POSTGRES_TEST_URL, READ_MODELS_SCHEMA: schema };
}
