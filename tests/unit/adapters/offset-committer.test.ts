// The plain offset commits of exactly-once mode: one request at a time, offsets coalesced (newest
// per partition), a transaction's offset never overtaken by an older plain one, nothing of an old
// group generation sent in a new one.
import { describe, expect, it } from 'vitest';
import { OffsetCommitter, type PartitionOffset } from '../../../src/adapters/kafka/offset-committer.js';

/** A broker whose commit requests complete when the test says so. */
function broker() {
  const requests: { offsets: PartitionOffset[]; done: () => void; fail: (err: Error) => void }[] = [];
  const errors: string[] = [];
  const committer = new OffsetCommitter(
    (offsets) => new Promise<void>((resolve, reject) => { requests.push({ offsets, done: resolve, fail: reject }); }),
    (err, offsets) => errors.push(`${err.message}: ${offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`).join(',')}`),
  );
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const sent = () => requests.map((r) => r.offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`).join(','));
  return { committer, requests, errors, tick, sent };
}

describe('OffsetCommitter', () => {
  it('sends at once when idle, then coalesces what finishes meanwhile into one request, newest offset per partition', async () => {
    const b = broker();
    b.committer.add('t', 0, 10);
    await b.tick();
    expect(b.sent()).toEqual(['t:0@10']);
    b.committer.add('t', 1, 5);
    b.committer.add('t', 0, 12);
    b.committer.add('t', 1, 7);
    await b.tick();
    expect(b.sent()).toHaveLength(1); // one request in flight at a time
    b.requests[0]!.done();
    await b.tick();
    await b.tick();
    expect(b.sent()).toEqual(['t:0@10', 't:1@7,t:0@12']);
    b.requests[1]!.done();
    await b.tick();
    expect(b.sent()).toHaveLength(2);
  });

  it('before a transaction: drops the partition\'s pending offset and waits for the request in flight', async () => {
    const b = broker();
    b.committer.add('t', 0, 10);
    await b.tick();
    b.committer.add('t', 0, 11);
    b.committer.add('t', 1, 3);
    let settled = false;
    const waiting = b.committer.settled('t', 0).then(() => { settled = true; });
    await b.tick();
    expect(settled).toBe(false); // t:0@10 is still on its way: the transaction's offset must land after it
    b.requests[0]!.done();
    await waiting;
    await b.tick();
    await b.tick();
    // t:0@11 is gone (the transaction commits a newer offset); t:1 still goes out
    expect(b.sent()).toEqual(['t:0@10', 't:1@3']);
  });

  it('after a rebalance sends nothing of the previous generation', async () => {
    const b = broker();
    b.committer.add('t', 0, 10);
    await b.tick();
    b.committer.add('t', 0, 20);
    b.committer.add('t', 2, 4);
    b.committer.forget();
    b.requests[0]!.done();
    await b.tick();
    await b.tick();
    expect(b.sent()).toEqual(['t:0@10']);
  });

  it('reports a failed commit and goes on with the next one; flush sends what is pending and waits', async () => {
    const b = broker();
    b.committer.add('t', 0, 10);
    await b.tick();
    b.committer.add('t', 0, 11);
    b.requests[0]!.fail(new Error('REBALANCE_IN_PROGRESS'));
    await b.tick();
    await b.tick();
    expect(b.errors).toEqual(['REBALANCE_IN_PROGRESS: t:0@10']);
    expect(b.sent()).toEqual(['t:0@10', 't:0@11']);
    b.committer.add('t', 3, 1);
    let flushed = false;
    const flushing = b.committer.flush().then(() => { flushed = true; });
    b.requests[1]!.done();
    await b.tick();
    await b.tick();
    expect(b.sent()).toEqual(['t:0@10', 't:0@11', 't:3@1']);
    expect(flushed).toBe(false);
    b.requests[2]!.done();
    await flushing;
    expect(flushed).toBe(true);
  });
});
