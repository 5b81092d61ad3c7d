import { kafkaBrokers } from '@infra/test-utils';
import { describe } from 'vitest';
import { kafkaFaultSuite } from '../../test/kafka-fault-suite.js';
import { createPlatformaticKafkaAdapter } from './platformatic-adapter.js';

const brokers = kafkaBrokers('@infra/messaging @platformatic/kafka fault tests');

describe.skipIf(!brokers)('@platformatic/kafka', () => {
  kafkaFaultSuite({ client: 'platformatic-kafka', brokers: brokers ?? '', create: createPlatformaticKafkaAdapter });
});
