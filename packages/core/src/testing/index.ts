export { FakeClock } from './fake-clock.js';
export type { FakeClockOptions } from './fake-clock.js';
