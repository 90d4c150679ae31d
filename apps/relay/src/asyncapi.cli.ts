// `npm run docs:asyncapi`: writes the public events' AsyncAPI document to docs/asyncapi.json
// (the API serves the same document at /docs/asyncapi.json; a spec checks the file is current).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildAsyncApiDocument } from '@stagecraft/public-events';

const target = resolve(process.argv[2] ?? 'docs/asyncapi.json');
writeFileSync(target, `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`);
console.log(`AsyncAPI document written to ${target}`);
