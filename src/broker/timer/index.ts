// Public door of timer/: the broker's scheduler of delayed messages (public
// delayed sends and re-deliveries), on disk (timer-service.ts has the design).
export { TimerService, type LegacySchedule, type TimerServiceOptions, type TimerSendMessage, type TimerStats } from './timer-service.js';
export { deliverAtOf } from './delay.js';
