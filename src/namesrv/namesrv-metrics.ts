// The name server's Prometheus metrics (prom-client, a registry of its own):
// the brokers it routes to, how long since each last registered, its
// connections and refusals, read from one stats() snapshot per scrape.
import { Counter, Gauge, Registry } from 'prom-client';
import { BrokerRole, type NameServerStats } from '../protocol/index.js';
import type { MetricsSource } from '../net/index.js';

const MS_PER_SEC = 1000;

export function nameServerMetrics(stats: () => NameServerStats): MetricsSource {
  const registry = new Registry();
  let s = stats();
  const BR = ['broker', 'addr', 'role'] as const;
  const role = (r: BrokerRole): string => (r === BrokerRole.Master ? 'master' : 'slave');
  new Gauge({
    name: 'metaq_namesrv_brokers', help: 'Live brokers registered', registers: [registry],
    collect() {
      this.set(s.brokers.length);
    },
  });
  new Gauge({
    name: 'metaq_namesrv_broker_topics', help: 'Topics each live broker registered', labelNames: BR, registers: [registry],
    collect() {
      this.reset();
      for (const b of s.brokers) this.set({ broker: b.brokerName, addr: b.addr, role: role(b.role) }, b.topics);
    },
  });
  new Gauge({
    name: 'metaq_namesrv_broker_last_seen_seconds', help: 'Seconds since each live broker last registered', labelNames: BR, registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const b of s.brokers) this.set({ broker: b.brokerName, addr: b.addr, role: role(b.role) }, Math.max(0, now - b.lastSeen) / MS_PER_SEC);
    },
  });
  new Gauge({
    name: 'metaq_namesrv_connections', help: 'Open connections', registers: [registry],
    collect() {
      this.set(s.connections);
    },
  });
  new Counter({
    name: 'metaq_namesrv_refusals_total', help: 'Requests and connections a limit or security check refused, by limit', labelNames: ['limit'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [limit, n] of Object.entries(s.refusals)) this.inc({ limit }, n);
    },
  });
  return {
    contentType: registry.contentType,
    render: () => {
      s = stats();
      return registry.metrics();
    },
  };
}
