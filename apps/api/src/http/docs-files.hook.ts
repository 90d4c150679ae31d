import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem, pathOf, unknownField, validationProblem } from './problem';

/**
 * What /docs serves: Swagger UI's page and the files it loads, and the API's documents. The UI is
 * served from its package's folder, which holds more (package.json naming the version, README.md,
 * the package's own scripts): those are no part of the API, and a name the folder lacks was
 * answered by the static server's own errors (400 for a long or dotted name) instead of a 404.
 */
const DOCS_FILES = new Set(['', 'index.html', 'swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui-init.js', 'favicon-16x16.png', 'favicon-32x32.png', 'openapi.json', 'asyncapi.json']);

/**
 * Answers any other path under /docs 404 ROUTE.NOT_FOUND, whatever the method, and refuses a query
 * string there as every route refuses a parameter it does not take (the documents take none).
 */
export function limitDocsToItsFiles(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const path = pathOf(request.url);
    if (path === '/docs' || path.startsWith('/docs/')) {
      // The UI also asks for its files one folder down (/docs/docs/…) when the page is read as /docs/.
      const name = path.slice('/docs/'.length).replace(/^docs\//, '');
      if (path !== '/docs' && !DOCS_FILES.has(name)) throw new ApiProblem('ROUTE.NOT_FOUND', 'No such route; the API is described at /docs.');
      const query = new URLSearchParams(request.url.slice(path.length + 1));
      const fields = [...new Set(query.keys())];
      if (fields.length > 0) throw validationProblem(fields.map(unknownField));
    }
    done();
  });
}
