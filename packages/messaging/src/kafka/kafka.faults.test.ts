import { kafkaBrokers } from '@infra/test-utils';
import { describe } from 'vitest';
import { kafkaFaultSuite } from '../../test/kafka-fault-suite.js';
import { createKafkaAdapter } from './kafka-adapter.js';

const brokers = kafkaBrokers('@infra/messaging kafkajs fault tests');

describe.skipIf(!brokers)('kafkajs', () => {
  kafkaFaultSuite({ client: 'kafka', brokers: brokers ?? '', create: createKafkaAdapter });
});
