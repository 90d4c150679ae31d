import { NotFoundException } from '@nestjs/common';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pathOf } from './problem';

interface RoutePattern {
  readonly url: string;
  readonly matches: RegExp;
  readonly methods: Set<string>;
}

/**
 * Which methods each registered path takes, so that a request the router finds no route for can
 * be told apart: no such path (404 ROUTE.NOT_FOUND) or a path that exists under other methods
 * (405 ROUTE.METHOD_NOT_ALLOWED with an Allow header, RFC 9110 §15.5.6). Fastify's router answers
 * both with its not-found handler; this table is filled from its onRoute hook as routes register.
 */
export class RouteMethods {
  private readonly routes = new Map<string, RoutePattern>();

  add(url: string, methods: readonly string[]): void {
    let route = this.routes.get(url);
    if (!route) this.routes.set(url, (route = { url, matches: patternOf(url), methods: new Set() }));
    for (const method of methods) route.methods.add(method.toUpperCase());
    // Fastify answers HEAD for every GET route (exposeHeadRoutes).
    if (route.methods.has('GET')) route.methods.add('HEAD');
  }

  /** The methods some route of this path (query string ignored) takes, sorted; none when no route has the path. */
  allowedFor(url: string): string[] {
    const path = routedPath(pathOf(url));
    const allowed = new Set<string>();
    for (const route of this.routes.values()) {
      if (route.matches.test(path)) for (const method of route.methods) allowed.add(method);
    }
    return [...allowed].sort();
  }
}

/**
 * The path as the router matches it: percent-encoding undone (GET /%6De is GET /me), except an
 * encoded "/", which stays inside its segment. A path that does not decode is taken as it is.
 */
function routedPath(path: string): string {
  try {
    return path
      .split(/%2f/i)
      .map((piece) => decodeURIComponent(piece))
      .join('%2F');
  } catch {
    return path;
  }
}

/** Collects the methods of every route registered from now on (call before the app initialises). */
export function collectRouteMethods(fastify: FastifyInstance): RouteMethods {
  const table = new RouteMethods();
  fastify.addHook('onRoute', (options: RouteOptions) => {
    table.add(options.url, Array.isArray(options.method) ? options.method : [options.method]);
  });
  return table;
}

/**
 * A route's URL as a regular expression over request paths: `:name` is one non-empty segment (as
 * the router and Nest take it: /opportunities//move is no route), `*` anything after it.
 */
function patternOf(url: string): RegExp {
  let source = '';
  for (const segment of url.split('/').slice(1)) {
    if (segment === '*') source += '/.*';
    else if (segment.startsWith(':')) source += '/[^/]+';
    else source += `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  }
  return new RegExp(`^${source === '' ? '/' : source}$`);
}

/**
 * A request no route takes is answered as such (404, or 405 with Allow: problem.filter.ts) before
 * its body is read: Fastify judged it first, so QUERY /pipeline without a Content-Type (which it
 * refuses for any QUERY) was a 400 REQUEST.REJECTED, and DELETE /pipeline with a body not JSON a
 * 400 REQUEST.MALFORMED_JSON, as if some route would have read them. A preParsing hook: what the
 * request hooks refuse (no Host, shutting down) still comes first.
 */
export function answerUnroutedBeforeBody(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.is404) done(new NotFoundException());
    else done(null, payload);
  });
}
