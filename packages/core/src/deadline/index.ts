export { runWithDeadline, currentDeadline } from './ambient-deadline.js';
