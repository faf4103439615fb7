/** A decoded CloudEvents 1.0 event, as the pipeline sees it after validation. */
export interface CloudEvent<D = Record<string, unknown>> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  /** Event time in epoch milliseconds (parsed from the RFC 3339 `time` attribute). */
  time: number;
  subject?: string;
  datacontenttype?: string;
  /** W3C trace context (CloudEvents distributed-tracing extension). */
  traceparent?: string;
  data: D;
}

/** Where an event came from: enough to dead-letter it or to make its updates idempotent. */
export interface EventOrigin {
  topic: string;
  partition: number;
  /** Kafka offset (or line number in a backtest file). */
  offset: number;
}
