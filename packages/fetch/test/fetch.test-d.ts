import { expectTypeOf } from 'vitest';
import { type CreateFetchOptions, type FetchPolicy, createFetch } from '../src/index.js';

const f = createFetch({ policy: { retry: { maxAttempts: 3 } } });

// Exactly fetch's type: usable wherever a fetch is expected.
expectTypeOf(f).toEqualTypeOf<typeof fetch>();
expectTypeOf(f).toMatchTypeOf<typeof globalThis.fetch>();
expectTypeOf(f).parameters.toEqualTypeOf<Parameters<typeof fetch>>();
expectTypeOf(f).returns.toEqualTypeOf<Promise<Response>>();
expectTypeOf(f('https://a.test')).resolves.toEqualTypeOf<Response>();

// Libraries that take a custom fetch accept it.
declare function takesFetch(options: { fetch: typeof fetch }): void;
takesFetch({ fetch: f });
declare function takesLooseFetch(fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>): void;
takesLooseFetch(f);

// It can wrap itself, or any fetch.
createFetch({ fetch: f });
createFetch({});
createFetch();

// Options are checked.
expectTypeOf<CreateFetchOptions['retryOnStatus']>().toEqualTypeOf<readonly number[] | undefined>();
expectTypeOf<{ timeout: '2s' }>().toMatchTypeOf<FetchPolicy>();
// @ts-expect-error unknown option
createFetch({ retries: 3 });
// @ts-expect-error statuses are numbers
createFetch({ retryOnStatus: ['503'] });
