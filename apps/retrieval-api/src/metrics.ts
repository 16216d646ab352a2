// Prometheus metrics on a per-app registry: request counts and latencies by route, embed batch sizes, index sizes.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  middleware: RequestHandler;
  batchRows: Histogram<'tower'>;
  batchRequests: Histogram<'tower'>;
}

export function createMetrics(sizes: () => { name: string; size: number }[], modelReady: () => boolean): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'duet_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'duet_http_request_duration_seconds', help: 'HTTP request latency by method and route', labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  new Gauge({
    name: 'duet_collection_items', help: 'Items per collection', labelNames: ['collection'], registers: [registry],
    collect() {
      this.reset();
      for (const c of sizes()) this.set({ collection: c.name }, c.size);
    },
  });
  new Gauge({
    name: 'duet_model_ready', help: '1 when the model is loaded (and passed its golden check)', registers: [registry],
    collect() {
      this.set(modelReady() ? 1 : 0);
    },
  });
  const batchRows = new Histogram({ name: 'duet_embed_batch_rows', help: 'Rows per onnxruntime embed call', labelNames: ['tower'], buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [registry] });
  const batchRequests = new Histogram({ name: 'duet_embed_batch_requests', help: 'Requests merged into one embed call', labelNames: ['tower'], buckets: [1, 2, 4, 8, 16, 32], registers: [registry] });
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // The matched route pattern keeps label cardinality bounded (no ids or names in labels).
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      latency.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
  return { registry, middleware, batchRows, batchRequests };
}
