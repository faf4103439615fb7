// Where the real Kafka and Redis of this test run are. tests/setup/global-setup.ts resolves them
// (environment -> Docker/testcontainers -> scripts/stack.sh) and hands them over with vitest's
// provide/inject and, for code that reads the environment, as KAFKA_BROKERS / REDIS_URL.
import { inject } from 'vitest';

export type ServicesSource = 'env' | 'docker' | 'local-stack' | 'mixed';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Kafka bootstrap brokers */
    kafkaBrokers: string[];
    /** redis://host:port */
    redisUrl: string;
    /** how the services were found, e.g. "kafka=local-stack redis=env" */
    servicesSource: string;
  }
}

export interface Services {
  kafkaBrokers: string[];
  redisUrl: string;
}

function injected<K extends 'kafkaBrokers' | 'redisUrl' | 'servicesSource'>(key: K) {
  try {
    return inject(key) as ReturnType<typeof inject<K>> | undefined;
  } catch {
    return undefined;
  }
}

/** The Kafka brokers and Redis URL every integration test must use. Throws (never skips) when
 * they are missing, e.g. in the `unit` project, which starts no services. */
export function services(): Services {
  const kafkaBrokers =
    injected('kafkaBrokers') ??
    (process.env.KAFKA_BROKERS ? process.env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) : undefined);
  const redisUrl = injected('redisUrl') ?? process.env.REDIS_URL;
  if (!kafkaBrokers || kafkaBrokers.length === 0 || !redisUrl) {
    throw new Error(
      'No Kafka/Redis for this test. Integration tests get them from tests/setup/global-setup.ts, ' +
        'which only the "integration" vitest project runs (every tests/**/*.test.ts outside tests/unit). ' +
        'Move the test out of tests/unit, or set KAFKA_BROKERS and REDIS_URL.',
    );
  }
  return { kafkaBrokers, redisUrl };
}

/** Human-readable description of where the services came from (for diagnostics). */
export function servicesSource(): string {
  return injected('servicesSource') ?? process.env.CPIWATCH_TEST_SERVICES_SOURCE ?? 'unknown';
}
