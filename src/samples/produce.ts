/** Produces sample or recorded events to a topic, in order, in chunks. */
import type { Producer } from 'kafkajs';
import type { ScenarioEvent } from './curbside-scenario.js';

const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

export async function produceEvents(producer: Producer, topic: string, events: readonly ScenarioEvent[], chunk = 500): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    await producer.send({
      topic,
      acks: -1,
      messages: events.slice(i, i + chunk).map((e) => ({ key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': CE_JSON } })),
    });
  }
}
