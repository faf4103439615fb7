// Test helpers: import from 'tests/support/index.js' (relative path from your test file).
export { services, servicesSource, type Services } from './services.js';
export { uniqueId, uniqueNames, type TestNames } from './names.js';
export { kafkaClient, createTopic, deleteTopics, produce, waitForMessages, type ReadMessage, type ProduceInput } from './kafka.js';
export { redisClient, withRedis, deleteKeys } from './redis.js';
export { startSmtpServer, type TestSmtpServer, type CapturedMail } from './smtp.js';
export { waitFor, sleep } from './wait.js';
export { freePort } from './ports.js';
export { makeTestTls, type TestTls } from './tls.js';
export { runCli, type CliRun } from './cli.js';
export { readWithJava, kafkaJars, type JavaRecord } from './java-reader.js';
