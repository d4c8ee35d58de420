import { describe } from './duration.js';

/**
 * A route key, parsed: `[METHOD ][host][/path]`, e.g. `"GET api.example.com/users/:id"`,
 * `"api.example.com"`, `"*.example.com"`, `"GET /users/:id"`, `"/admin/*"`, `"POST /orders"`.
 */
export interface RouteKey {
  /** The key as written. */
  readonly key: string;
  /** Upper-case method, or `undefined` for any method. */
  readonly method: string | undefined;
  /** Lower-case host name (for `*.example.com`: `example.com`), or `undefined` for any host. */
  readonly host: string | undefined;
  /** True for a `*.` host, which matches every sub-domain (not the bare domain). */
  readonly wildcardHost: boolean;
  /** The port when the key names one (`api.example.com:8080`); otherwise any port matches. */
  readonly port: string | undefined;
  /** The path pattern (`/users/:id`, `/admin/*`, `/`), or `undefined` for any path. */
  readonly path: string | undefined;
}

/** A route that matched: its key, the value it was given and the parsed key. */
export interface RouteMatch<T> {
  readonly key: string;
  readonly value: T;
  readonly route: RouteKey;
}

/** Routes compiled once; {@link RouteMatcher.match} picks the most specific. */
export interface RouteMatcher<T> {
  /** Every route, most specific first. */
  readonly routes: readonly RouteMatch<T>[];
  /**
   * The most specific route for a request, or `undefined`. Specificity: an exact host (with its
   * port, then without) beats a wildcard host (longest suffix first), which beats a key without
   * host; then the more specific path (literal segment > `:param` > `*` > no path); then a key with
   * a method beats one without. Never throws, whatever the input.
   * @param method request method (any case)
   * @param host request host, with or without port (`api.example.com:8080`); `undefined` when unknown
   * @param path the URL's path (a `?query` or `#hash` is ignored)
   */
  match(method: string, host: string | undefined, path: string): RouteMatch<T> | undefined;
}

const LITERAL = 3;
const PARAM = 2;
const END = 1.5; // end of a pattern: more specific than `*` (which also matches more segments)
const WILDCARD = 1;

/** One compiled path segment: a literal, a `:param` (any non-empty segment) or a trailing `*`. */
type Segment = { kind: typeof LITERAL; text: string } | { kind: typeof PARAM } | { kind: typeof WILDCARD };

interface CompiledRoute<T> extends RouteMatch<T> {
  /** What {@link RouteMatcher.match} returns for this route. */
  readonly result: RouteMatch<T>;
  /** `undefined`: any path. */
  readonly segments: readonly Segment[] | undefined;
  readonly hostRank: number;
  readonly canonical: string;
}

const MAX_KEY_LENGTH = 2048;
const METHOD = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*$/;
const HOST_NAME = /^(?:\*\.)?[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@%-][A-Za-z0-9._~!$&'()+,;=@%:-]*$/;
const PARAM_SEGMENT = /^:[A-Za-z_][A-Za-z0-9_]*$/;

const STANDARD_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
]);

const EXAMPLES = '(e.g. "GET api.example.com/users/:id", "*.example.com", "POST /orders", "/admin/*")';

function invalid(key: unknown, why: string): never {
  throw new TypeError(`@palisade/core: route ${describe(key)} is not a valid route key: ${why} ${EXAMPLES}`);
}

function parseSegments(key: string, path: string): Segment[] {
  const parts = path.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // "/users/" ≡ "/users"
  const segments: Segment[] = [];
  parts.forEach((part, index) => {
    if (part === '*') {
      if (index !== parts.length - 1) invalid(key, '"*" may only be the last path segment');
      segments.push({ kind: WILDCARD });
    } else if (part.startsWith(':')) {
      if (!PARAM_SEGMENT.test(part)) invalid(key, `bad parameter "${part}"`);
      segments.push({ kind: PARAM });
    } else if (part === '') {
      invalid(key, 'empty path segment');
    } else if (!LITERAL_SEGMENT.test(part)) {
      invalid(key, `bad path segment "${part}"`);
    } else {
      segments.push({ kind: LITERAL, text: part });
    }
  });
  return segments;
}

function parseHost(key: string, text: string): { host: string; port: string | undefined; wildcard: boolean } {
  const lower = text.toLowerCase();
  let name = lower;
  let port: string | undefined;
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close < 0) invalid(key, 'unclosed IPv6 address');
    name = lower.slice(0, close + 1);
    const rest = lower.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) invalid(key, `bad host "${text}"`);
      port = rest.slice(1);
    }
    if (!IPV6.test(name)) invalid(key, `bad host "${text}"`);
  } else {
    const colon = lower.lastIndexOf(':');
    if (colon >= 0) {
      name = lower.slice(0, colon);
      port = lower.slice(colon + 1);
    }
    if (!HOST_NAME.test(name) || name.length > 253) invalid(key, `bad host "${text}"`);
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65_535)) invalid(key, `bad port in "${text}"`);
  const wildcard = name.startsWith('*.');
  if (wildcard && port !== undefined) invalid(key, 'a wildcard host cannot name a port');
  return { host: wildcard ? name.slice(2) : name, port, wildcard };
}

function compile<T>(key: unknown, value: T): CompiledRoute<T> {
  if (typeof key !== 'string') invalid(key, 'it must be a string');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) invalid(key, `it must be 1 to ${MAX_KEY_LENGTH} characters`);
  const tokens = key.trim().split(/\s+/);
  if (tokens.length > 2 || tokens[0] === '') invalid(key, 'expected "[METHOD ][host][/path]"');
  let method: string | undefined;
  if (tokens.length === 2) {
    const m = tokens[0] as string;
    if (!METHOD.test(m)) invalid(key, `bad method "${m}"`);
    method = m.toUpperCase();
  }
  const target = tokens[tokens.length - 1] as string;
  const slash = target.indexOf('/');
  const hostText = slash < 0 ? target : target.slice(0, slash);
  const pathText = slash < 0 ? undefined : target.slice(slash);
  if (hostText === '' && pathText === undefined) invalid(key, 'no host or path');
  if (hostText === '*') invalid(key, 'use the default policy rather than a "*" host');
  if (tokens.length === 1 && STANDARD_METHODS.has(hostText)) {
    invalid(key, `a method alone is not a route: add a path, e.g. "${hostText} /*"`);
  }
  const parsedHost = hostText === '' ? undefined : parseHost(key, hostText);
  const segments = pathText === undefined ? undefined : parseSegments(key, pathText);
  const path =
    segments === undefined
      ? undefined
      : `/${segments.map((s) => (s.kind === LITERAL ? s.text : s.kind === PARAM ? ':' : '*')).join('/')}`;
  const hostRank = parsedHost === undefined ? 0 : parsedHost.wildcard ? 1 : parsedHost.port === undefined ? 2 : 3;
  const route: RouteKey = Object.freeze({
    key,
    method,
    host: parsedHost?.host,
    wildcardHost: parsedHost?.wildcard ?? false,
    port: parsedHost?.port,
    path: pathText === undefined ? undefined : pathText.length > 1 ? pathText.replace(/\/$/, '') : pathText,
  });
  const hostPart = parsedHost ? `${parsedHost.wildcard ? '*.' : ''}${parsedHost.host}:${parsedHost.port ?? ''}` : '';
  const result: RouteMatch<T> = Object.freeze({ key, value, route });
  return { key, value, route, result, segments, hostRank, canonical: `${method ?? ''} ${hostPart} ${path ?? ''}` };
}

/**
 * Parses one route key, throwing a `TypeError` that names the key when it is not valid.
 * @example parseRouteKey('GET api.example.com/users/:id').host // 'api.example.com'
 */
export function parseRouteKey(key: string): RouteKey {
  return compile(key, undefined).route;
}

const segmentRank = (segments: readonly Segment[] | undefined, index: number): number => {
  if (segments === undefined) return 0;
  const segment = segments[index];
  return segment === undefined ? END : segment.kind;
};

/** Negative when `a` is more specific than `b`. */
function bySpecificity(a: CompiledRoute<unknown>, b: CompiledRoute<unknown>): number {
  if (a.hostRank !== b.hostRank) return b.hostRank - a.hostRank;
  if (a.route.wildcardHost && b.route.wildcardHost) {
    const byLength = (b.route.host as string).length - (a.route.host as string).length;
    if (byLength !== 0) return byLength;
  }
  const length = Math.max(a.segments?.length ?? 0, b.segments?.length ?? 0) + 1;
  for (let i = 0; i < length; i++) {
    const diff = segmentRank(b.segments, i) - segmentRank(a.segments, i);
    if (diff !== 0) return diff;
  }
  return (b.route.method === undefined ? 0 : 1) - (a.route.method === undefined ? 0 : 1);
}

function pathMatches(segments: readonly Segment[] | undefined, path: string, end: number): boolean {
  if (segments === undefined) return true;
  let pos = 1; // past the leading "/"
  for (const segment of segments) {
    if (segment.kind === WILDCARD) return true;
    if (pos > end) return false;
    let next = path.indexOf('/', pos);
    if (next < 0 || next > end) next = end;
    if (segment.kind === PARAM) {
      if (next === pos) return false;
    } else if (next - pos !== segment.text.length || !path.startsWith(segment.text, pos)) {
      return false;
    }
    pos = next + 1;
  }
  return pos >= end; // nothing left, or only a trailing "/"
}

function splitHost(host: string): [name: string, port: string | undefined] {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close < 0) return [lower, undefined];
    return [lower.slice(0, close + 1), lower[close + 1] === ':' ? lower.slice(close + 2) : undefined];
  }
  const colon = lower.lastIndexOf(':');
  return colon < 0 ? [lower, undefined] : [lower.slice(0, colon), lower.slice(colon + 1)];
}

/**
 * Compiles route keys (see {@link RouteKey}) with their values into a matcher that picks the most
 * specific route for a request. A bad or duplicate key throws a `TypeError` naming it, once, here.
 * @example
 * const routes = compileRoutes({ 'api.example.com': 'a', 'GET api.example.com/users/:id': 'b' });
 * routes.match('GET', 'api.example.com', '/users/7')?.value; // 'b'
 */
export function compileRoutes<T>(
  routes: Readonly<Record<string, T>> | Iterable<readonly [string, T]>,
): RouteMatcher<T> {
  if (typeof routes !== 'object' || routes === null) {
    throw new TypeError(`@palisade/core: routes must be an object of route keys (got ${describe(routes)})`);
  }
  const entries: Iterable<readonly [string, T]> =
    Symbol.iterator in routes ? (routes as Iterable<readonly [string, T]>) : Object.entries(routes);
  const compiled: CompiledRoute<T>[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const route = compile(entry[0], entry[1]);
    const other = seen.get(route.canonical);
    if (other !== undefined) invalid(route.key, `it means the same route as ${describe(other)}`);
    seen.set(route.canonical, route.key);
    compiled.push(route);
  }
  compiled.sort(bySpecificity);

  const byHost = new Map<string, CompiledRoute<T>[]>();
  const wildcards: CompiledRoute<T>[] = [];
  const hostless: CompiledRoute<T>[] = [];
  for (const route of compiled) {
    const { host, wildcardHost } = route.route;
    if (host === undefined) hostless.push(route);
    else if (wildcardHost) wildcards.push(route);
    else {
      const list = byHost.get(host);
      if (list) list.push(route);
      else byHost.set(host, [route]);
    }
  }

  const first = (
    list: readonly CompiledRoute<T>[],
    method: string,
    name: string,
    port: string | undefined,
    path: string,
    end: number,
  ): CompiledRoute<T> | undefined => {
    for (const route of list) {
      const r = route.route;
      if (r.method !== undefined && r.method !== method) continue;
      if (r.port !== undefined && r.port !== port) continue;
      if (r.wildcardHost) {
        const suffix = r.host as string;
        if (
          name.length <= suffix.length + 1 ||
          !name.endsWith(suffix) ||
          name[name.length - suffix.length - 1] !== '.'
        ) {
          continue;
        }
      }
      if (pathMatches(route.segments, path, end)) return route;
    }
    return undefined;
  };

  return {
    routes: Object.freeze(compiled.map((route) => route.result)),
    match(method, host, path) {
      if (compiled.length === 0 || typeof method !== 'string' || typeof path !== 'string') return undefined;
      const m = method.toUpperCase();
      let end = path.length;
      const query = path.indexOf('?');
      if (query >= 0) end = query;
      const hash = path.indexOf('#');
      if (hash >= 0 && hash < end) end = hash;
      if (path.charCodeAt(0) !== 47 /* "/" */) return undefined;
      let found: CompiledRoute<T> | undefined;
      if (typeof host === 'string' && host !== '') {
        const [name, port] = splitHost(host);
        const exact = byHost.get(name);
        if (exact) found = first(exact, m, name, port, path, end);
        if (!found && wildcards.length > 0) found = first(wildcards, m, name, port, path, end);
      }
      if (!found && hostless.length > 0) found = first(hostless, m, '', undefined, path, end);
      return found?.result;
    },
  };
}
