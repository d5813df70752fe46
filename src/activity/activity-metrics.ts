// The metrics one service worker keeps (prom-client, its own registry). The
// primary process merges its workers' registries on GET /metrics with
// prom-client's AggregatorRegistry.aggregate, so the text covers the whole
// service: counters and histograms are summed, the in-flight gauge too.
// (Not AggregatorRegistry.clusterMetrics: it asks every cluster worker of the
// process, which mixes two services started in one process.)
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Response time buckets, seconds: from well under a millisecond to the producer's timeouts. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
/** Messages per producer send request (the Producer's batches). */
const BATCH_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256];

export class ActivityMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'metaq_activity_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly claimsProduced = new Counter({ name: 'metaq_activity_claims_produced_total', help: 'Claim messages acknowledged SEND_OK (one per new allocation)', registers: [this.registry] });
  readonly claimsRepeated = new Counter({ name: 'metaq_activity_claims_repeated_total', help: 'Claims answered from the allocation record (repeat scans), nothing produced', registers: [this.registry] });
  readonly claimsRefused = new Counter({ name: 'metaq_activity_claims_refused_total', help: 'Claim sends not acknowledged, by reason (a status or an error code)', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly forwarded = new Counter({ name: 'metaq_activity_claims_forwarded_total', help: "Claims forwarded to the worker owning the user's record", registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'metaq_activity_producer_batch_size', help: 'Messages per producer send request', buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'metaq_activity_claims_in_flight', help: 'Claim requests open (received, not yet answered)', registers: [this.registry], aggregator: 'sum' });
  readonly latency = new Histogram({ name: 'metaq_activity_request_duration_seconds', help: 'Time from a request to its answer, by route', labelNames: ['route'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
}
