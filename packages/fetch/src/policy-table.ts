import {
  type FromSpecOptions,
  type Policy,
  type PolicySpec,
  type RouteMatcher,
  SPEC_ORDER,
  type SpecKey,
  compileRoutes,
  fromSpec,
  pipeline,
} from '@palisade/core';
import { LRUCache } from 'lru-cache';
import { FACTORIES } from './factories.js';
import { type FetchPolicy, type NormalizedFetchOptions, PKG, isPolicy } from './options.js';

/** The policy one request runs through. */
export interface Selection {
  /** `undefined`: straight to `fetch`. */
  readonly policy: Policy | undefined;
  /** Whether `policy` may send the request more than once (retry, hedge): its body must be replayable. */
  readonly replays: boolean;
  /**
   * Whether `policy` may abort an attempt itself (timeout, hedge), so that `fetch` must be given the
   * attempt's own signal. Without, the caller's signal (if any) is all `fetch` needs.
   */
  readonly aborts: boolean;
}

/** The two pipelines built from one spec for one host, sharing every policy instance. */
interface SpecState {
  /** All of the spec. */
  readonly idempotent: Selection;
  /** The spec without `retry` and `hedge` (the same object as `idempotent` with `retryNonIdempotent`). */
  readonly other: Selection;
}

interface Entry {
  /** Position in the table, part of the state's cache key. */
  readonly id: number;
  /** Where it is configured, for names and error messages: the route key or `policy`. */
  readonly label: string;
  /** A ready-made Policy, as one selection. */
  readonly ready: Selection | undefined;
  /** A spec, built per host on first use. */
  readonly spec: PolicySpec | undefined;
  /** A spec containing retry or hedge, which non-idempotent requests skip. */
  readonly splits: boolean;
  /** The host this entry last selected a state for, and that state (see {@link PolicyTable.select}). */
  lastHost: string | undefined;
  lastState: SpecState | undefined;
  /** Selections served from `lastState` since the cache last saw the key. */
  lastHits: number;
}

/**
 * A client calling one upstream over and over finds its state without building the cache key (a
 * new string, hashed at each lookup) and looking it up in lru-cache; the cache still sees the key
 * at least this often, so a busy one stays recently used.
 */
const LOOKUP_EVERY = 64;

const REPLAYING: ReadonlySet<SpecKey> = new Set(['retry', 'hedge']);
const ABORTING: ReadonlySet<SpecKey> = new Set(['timeout', 'attemptTimeout', 'hedge']);
const NONE: Selection = Object.freeze({ policy: undefined, replays: false, aborts: false });
const NO_MEMO = { lastHost: undefined, lastState: undefined, lastHits: 0 } as const;

/**
 * A package prefix at the start of a message, or after the spec key core's `fromSpec` puts in
 * front of a factory's message (`retry: @palisade/retry: …`).
 */
const INNER_PREFIX = /^(\w+: )?@palisade\/[\w-]+: /;

/**
 * Runs `build`, turning a `TypeError` from core (route keys, `fromSpec`) or a pattern factory into
 * one message with a single `@palisade/fetch:` prefix and `where` it is configured, e.g.
 * `@palisade/fetch: route "api.example.com": retry: "maxAttempts" must be …`. The original error
 * is the `cause`.
 */
function named<T>(where: string | undefined, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const detail = error.message.replace(INNER_PREFIX, '$1');
    throw new TypeError(`${PKG}: ${where === undefined ? '' : `${where}: `}${detail}`, { cause: error });
  }
}

const compose = (policies: Policy[]): Policy | undefined =>
  policies.length === 0 ? undefined : policies.length === 1 ? policies[0] : pipeline(...policies);

/**
 * Which policy each request runs through: the most specific route, else the default `policy`.
 * State built from specs lives in an LRU cache keyed by (route, host), so it is per host and per
 * route, and bounded.
 */
export class PolicyTable {
  readonly #routes: RouteMatcher<Entry> | undefined;
  readonly #fallback: Entry | undefined;
  readonly #states: LRUCache<string, SpecState>;
  readonly #options: NormalizedFetchOptions;
  #count = 0;

  constructor(options: NormalizedFetchOptions) {
    this.#options = options;
    this.#states = new LRUCache<string, SpecState>({ max: options.maxKeys });
    const { routes } = options;
    const entries = Object.keys(routes).map(
      (key) => [key, this.#entry(`route "${key}"`, key, routes[key] as FetchPolicy)] as const,
    );
    this.#routes = entries.length === 0 ? undefined : named(undefined, () => compileRoutes(entries));
    this.#fallback = options.policy === undefined ? undefined : this.#entry('"policy"', 'fetch', options.policy);
  }

  /** True when no request can run through any policy. */
  get empty(): boolean {
    return this.#routes === undefined && this.#fallback === undefined;
  }

  #entry(where: string, label: string, value: FetchPolicy): Entry {
    let entry: Entry;
    if (isPolicy(value)) {
      const ready = Object.freeze({ policy: value, replays: true, aborts: true });
      entry = { id: this.#count++, label, ready, spec: undefined, splits: false, ...NO_MEMO };
    } else {
      // Built once now so that a bad spec throws at construction, naming where it is.
      named(where, () => fromSpec(value, this.#specOptions(label)));
      const splits = SPEC_ORDER.some(
        (key) => REPLAYING.has(key) && value[key] !== undefined && (value[key] as unknown) !== false,
      );
      entry = { id: this.#count++, label, ready: undefined, spec: value, splits, ...NO_MEMO };
    }
    return entry;
  }

  /** No `path`: {@link named} says where, once, around core's message. */
  #specOptions(label: string): FromSpecOptions {
    const { clock, onEvent } = this.#options;
    return {
      factories: FACTORIES,
      name: label,
      clock,
      ...(onEvent ? { onEvent } : {}),
    };
  }

  #build(entry: Entry): SpecState {
    const spec = entry.spec as PolicySpec;
    const options = this.#specOptions(entry.label);
    const all: Policy[] = [];
    const once: Policy[] = [];
    let replays = false;
    let aborts = false;
    let abortsOnce = false;
    for (const key of SPEC_ORDER) {
      const value = spec[key];
      if (value === undefined || (value as unknown) === false) continue;
      const policy = fromSpec({ [key]: value }, options);
      all.push(policy);
      if (ABORTING.has(key)) aborts = true;
      if (REPLAYING.has(key)) replays = true;
      else {
        once.push(policy);
        if (ABORTING.has(key)) abortsOnce = true;
      }
    }
    const idempotent: Selection = Object.freeze({ policy: compose(all), replays, aborts });
    const other: Selection =
      this.#options.retryNonIdempotent || !replays
        ? idempotent
        : Object.freeze({ policy: compose(once), replays: false, aborts: abortsOnce });
    return { idempotent, other };
  }

  /**
   * The selection for a request.
   * @param method upper-case method
   * @param host the URL's host (with port)
   * @param idempotent whether the request may be sent twice (asked only when it matters)
   */
  select(method: string, host: string, path: string, idempotent: () => boolean): Selection {
    const entry = this.#routes?.match(method, host, path)?.value ?? this.#fallback;
    if (entry === undefined) return NONE;
    if (entry.ready) return entry.ready;
    let state: SpecState | undefined;
    if (entry.lastHost === host && entry.lastHits++ < LOOKUP_EVERY) state = entry.lastState as SpecState;
    else {
      const id = `${entry.id} ${host}`;
      state = this.#states.get(id);
      if (state === undefined) {
        // Evicted while in use through the memo (a flood of other keys): put it back, don't reset it.
        state = entry.lastHost === host ? (entry.lastState as SpecState) : this.#build(entry);
        this.#states.set(id, state);
      }
      entry.lastHost = host;
      entry.lastState = state;
      entry.lastHits = 0;
    }
    return !entry.splits || idempotent() ? state.idempotent : state.other;
  }

  /** How many (route, host) states are held. */
  get size(): number {
    return this.#states.size;
  }
}
