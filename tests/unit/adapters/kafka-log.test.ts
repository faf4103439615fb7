// kafkajs' transient coordinator errors (the group coordinator loading on a fresh broker) are
// logged at debug and counted; every other error entry stays an error.
import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { coordinatorLoadingErrors, kafkaLogCreator } from '../../../src/adapters/kafka/kafka-log.js';
import type { Logger } from '../../../src/ops/logger.js';

function capture(): { log: Logger; lines: () => { level: number; msg: string; error?: string }[] } {
  const out: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { out.push(String(chunk)); done(); } });
  const log = pino({ level: 'debug' }, sink) as unknown as Logger;
  return { log, lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as never) };
}

describe('kafkajs log adapter', () => {
  it('downgrades the coordinator-loading errors to debug, counted, and only those', () => {
    const { log, lines } = capture();
    const write = kafkaLogCreator(log)();
    const before = coordinatorLoadingErrors();
    const entry = (error: string) => ({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', message: 'Response JoinGroup(key: 11, version: 5)', error } });
    write(entry("The coordinator is loading and hence can't process requests for this group"));
    write(entry('The group coordinator is not available'));
    write(entry('This is not the correct coordinator for this group'));
    write(entry('The broker received an out of order sequence number'));
    write({ namespace: 'Producer', level: logLevel.WARN, label: 'WARN', log: { timestamp: 'now', message: 'a warning' } });
    expect(coordinatorLoadingErrors() - before).toBe(3);
    const got = lines();
    expect(got.map((l) => l.level)).toEqual([20, 20, 20, 50, 40]);
    expect(got[3]!.error).toBe('The broker received an out of order sequence number');
  });
});
