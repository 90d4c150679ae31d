import { join } from 'node:path';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// The OpenAPI document is what client developers generate code from: what it says of each route
// must be what the running API does. Every operation is read from the document itself, so a route
// added later is held to it without being named here.

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly schema: { readonly type?: string; readonly minimum?: number; readonly maximum?: number; readonly default?: unknown; readonly enum?: readonly string[]; readonly example?: unknown };
}
interface Operation {
  readonly parameters?: readonly Parameter[];
}
interface OpenApiDocument {
  readonly paths: Record<string, Record<string, Operation>>;
}
interface FieldError {
  readonly field: string;
  readonly message: string;
}

describe('the OpenAPI document', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp;
  let document: OpenApiDocument;
  let opportunityId: string;

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: join(dir.path, 'events.db'), env: { READ_YOUR_WRITES_TIMEOUT_MS: '0' } });
    opportunityId = (await api.http.post('/opportunities').send({ title: 'Contract', processId: 'standard', teamId: 'direct', amount: 1000, currency: 'EUR' }).expect(201)).body.id;
    document = (await api.anonymous.get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const pathFor = (template: string) => template.replace('{id}', template.startsWith('/processes') ? 'standard' : opportunityId).replace('{name}', 'pipeline');
  const queryParameters = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([method, operation]) => (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => ({ method, path, parameter }))),
    );
  const errorsOn = async (path: string, query: Record<string, string>): Promise<readonly FieldError[]> => {
    const answer = await api.http.get(`${pathFor(path)}?${new URLSearchParams(query)}`);
    return answer.status === 400 ? ((answer.body.errors ?? []) as FieldError[]) : [];
  };
  const validValue = (parameter: Parameter): string => {
    if (parameter.schema.enum) return parameter.schema.enum[0]!;
    if (parameter.schema.example !== undefined) return String(parameter.schema.example);
    if (parameter.schema.type === 'integer') return String(parameter.schema.minimum ?? 0);
    return 'x';
  };

  it('lists only query parameters the route applies: none is refused as not applying to it', async () => {
    const refused: string[] = [];
    for (const { method, path, parameter } of queryParameters()) {
      if (method !== 'get') continue;
      const errors = await errorsOn(path, { [parameter.name]: validValue(parameter) });
      for (const error of errors) if (error.field === parameter.name && /does not apply/.test(error.message)) refused.push(`${path}?${parameter.name}: ${error.message}`);
    }
    expect(refused).toEqual([]);
  });

  it('types every whole-number parameter as an integer with the range validation applies', async () => {
    const wrong: string[] = [];
    for (const { method, path, parameter } of queryParameters()) {
      if (method !== 'get') continue;
      const errors = (await errorsOn(path, { [parameter.name]: '1.5' })).filter((error) => error.field === parameter.name);
      const message = errors.find((error) => /whole number/.test(error.message))?.message;
      if (message === undefined) {
        if (parameter.schema.type === 'integer' || parameter.schema.type === 'number') wrong.push(`${path}?${parameter.name} is documented as a ${parameter.schema.type} but 1.5 is not refused as a fraction`);
        continue;
      }
      const [, min, max] = /whole number (?:from (\d+) to (\d+)|of at least (\d+))/.exec(message) ?? [];
      const documented = { type: parameter.schema.type, minimum: parameter.schema.minimum, maximum: parameter.schema.maximum };
      const validated = { type: 'integer', minimum: Number(min ?? /at least (\d+)/.exec(message)?.[1]), maximum: max === undefined || Number(max) >= Number.MAX_SAFE_INTEGER ? undefined : Number(max) };
      if (JSON.stringify(documented) !== JSON.stringify(validated)) wrong.push(`${path}?${parameter.name}: documented ${JSON.stringify(documented)}, validated ${JSON.stringify(validated)}`);
      // The bounds the document gives are the ones refused just outside.
      if (parameter.schema.minimum !== undefined) {
        const below = await errorsOn(path, { [parameter.name]: String(parameter.schema.minimum - 1) });
        if (!below.some((error) => error.field === parameter.name)) wrong.push(`${path}?${parameter.name}=${parameter.schema.minimum - 1} is not refused`);
      }
      if (parameter.schema.maximum !== undefined) {
        const above = await errorsOn(path, { [parameter.name]: String(parameter.schema.maximum + 1) });
        if (!above.some((error) => error.field === parameter.name)) wrong.push(`${path}?${parameter.name}=${parameter.schema.maximum + 1} is not refused`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
