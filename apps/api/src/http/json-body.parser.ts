import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { firstRepeatedName } from '@stagecraft/config';
import { firstInexactNumber } from './json-number';
import { ApiProblem, validationProblem } from './problem';
import { quotedValue } from '@stagecraft/sales-process';

/**
 * The API's one body parser, in place of Fastify's JSON parser, which decodes every body as UTF-8
 * whatever it holds: a Latin-1 "Müller" (`charset=iso-8859-1`), or any invalid byte, was stored as
 * U+FFFD, silently. Here a body is UTF-8 or refused, a declared charset must be UTF-8 (415), and a
 * refused body says why: not JSON (where), or a key that could alter objects on the server.
 */
export function parseJsonBodies(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, parseJsonBody(request.headers['content-type'], body));
    } catch (error) {
      done(error as Error);
    }
  });
}

/** The parsed body, or the problem that refuses it. */
export function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    const declared = charset === '' ? 'with an empty or repeated charset' : `as charset=${charset}`;
    throw new ApiProblem('REQUEST.UNSUPPORTED_MEDIA_TYPE', `The body is declared ${declared}; send it as UTF-8 JSON (one charset=utf-8, or no charset).`);
  }
  if (body.length === 0) throw new ApiProblem('REQUEST.MALFORMED_JSON', 'The body is empty but its content type is application/json; send a JSON object.');
  if (!isUtf8(body)) throw new ApiProblem('REQUEST.MALFORMED_JSON', 'The body is not valid UTF-8; send JSON encoded as UTF-8 (its text would otherwise be stored altered).');
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    if (/forbidden prototype property/.test((error as Error).message)) {
      throw new ApiProblem('REQUEST.MALFORMED_JSON', 'The body has a "__proto__" key, or a "constructor" key holding "prototype": refused, since they could alter objects on the server (no field of this API has those names).');
    }
    throw new ApiProblem('REQUEST.MALFORMED_JSON', `The body is not valid JSON (${(error as Error).message}).`);
  }
  // JSON.parse keeps the last of a name given twice; a proxy or a validator in front may keep the
  // first, and check another command than the one this service would record.
  const repeated = firstRepeatedName(text);
  if (repeated !== undefined) {
    throw new ApiProblem('REQUEST.MALFORMED_JSON', `The body gives ${quotedValue(repeated)} twice in one object; send each field once.`, { key: repeated.slice(0, 60) });
  }
  const inexact = firstInexactNumber(text);
  if (inexact !== undefined) {
    const written = inexact.written.length > 60 ? `${inexact.written.slice(0, 60)}… (${inexact.written.length} characters)` : inexact.written;
    const readAs = Number.isFinite(inexact.readAs) ? `it would be recorded as ${inexact.readAs}` : 'it is past the largest number that can be stored';
    throw validationProblem([{ field: inexact.field?.slice(0, 60) ?? '(body)', message: `${written} cannot be stored as written (${readAs}); give at most 15 significant digits` }]);
  }
  return parsed;
}

/**
 * The charset the content type declares: undefined when none, the parameter's text otherwise. Read
 * as parameters, not as text: `foo="x;charset=utf-8"; charset=latin1` declares latin1. Two charset
 * parameters, or an empty one, declare nothing usable ('' is refused).
 */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const charsets: string[] = [];
  // Parameters after the media type: name=token or name="quoted" (quotes may hold ';').
  for (const parameter of contentType.slice(contentType.indexOf(';') + 1 || contentType.length).matchAll(/\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)\s*(?:;|$)/g)) {
    if (parameter[1]!.toLowerCase() !== 'charset') continue;
    const value = parameter[2]!.trim();
    charsets.push((value.startsWith('"') ? value.slice(1, -1) : value).toLowerCase());
  }
  if (charsets.length === 0) return undefined;
  return charsets.length === 1 ? charsets[0]! : '';
}
