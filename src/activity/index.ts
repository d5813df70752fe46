// Public door of activity/: the activity system's HTTP service (POST
// /claims, GET /healthz, GET /metrics), started from code or by `metaq
// activity`. The harness boots it through startActivityService.
export { startActivityService, ActivityStartError, type ActivityService } from './activity-service.js';
export { ACTIVITY_DEFAULTS, defaultWorkers, resolveActivityOptions, type ActivityServiceOptions, type ActivityProducerOptions, type ResolvedActivityOptions } from './activity-options.js';
export { parseClaimRequest, type ClaimRequest } from './claim-request.js';
export type { Allocation } from './allocation-record.js';
