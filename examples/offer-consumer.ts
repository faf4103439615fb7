/**
 * A small typed consumer of cpiwatch offers, as a downstream service would write it (docs/offers.md).
 * It validates each offer against the published v1 contract and drops redeliveries by offer id.
 * Run: KAFKA_BROKERS=127.0.0.1:19092 OFFERS_TOPIC=cpiwatch.offers npx tsx examples/offer-consumer.ts
 */
import { Kafka } from 'kafkajs';
import { OfferEvent } from '../src/actions/offer-schema.js';

export type Offer = ReturnType<typeof OfferEvent.parse>;

/** Remembers offer ids already handled (a real service would use its database). */
export class SeenOffers {
  private readonly seen = new Set<string>();
  firstTime(offerId: string): boolean {
    if (this.seen.has(offerId)) return false;
    this.seen.add(offerId);
    return true;
  }
}

/** Parses and validates one Kafka value; returns undefined for anything that is not a v1 offer. */
export function readOffer(value: Buffer | null): Offer | undefined {
  if (!value) return undefined;
  try {
    const parsed = OfferEvent.safeParse(JSON.parse(value.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'offer-app', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',') });
  const consumer = kafka.consumer({ groupId: 'offer-app' });
  const seen = new SeenOffers();
  await consumer.connect();
  await consumer.subscribe({ topic: process.env.OFFERS_TOPIC ?? 'cpiwatch.offers', fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const offer = readOffer(message.value);
      if (!offer || !seen.firstTime(offer.id)) return;
      const { customerId, offer: o } = offer.data;
      console.log(`show ${customerId}: ${o.title} (code ${o.code}, until ${o.expiresAt})`);
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
