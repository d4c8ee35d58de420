export { FakeClock } from './fake-clock.js';
export type { FakeClockOptions } from './fake-clock.js';
export { seededRandom } from './seeded-random.js';
export { countAbortListeners } from './abort-listeners.js';
export type { ListenerCounts } from './abort-listeners.js';
