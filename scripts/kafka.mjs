#!/usr/bin/env node
// node scripts/kafka.mjs start|stop|status|restart
//
// Runs the single-node Apache Kafka broker (KRaft: broker and controller in one JVM) that the
// Kafka tests and benchmarks use, on 127.0.0.1:9092 (KAFKA_PORT to change it) with automatic topic
// creation on. Needs Java 17+ and Maven: the broker jars come from Maven Central through
// scripts/kafka/pom.xml and stay cached in ~/.m2. `start` is idempotent and prints the bootstrap
// address; `stop` ends the broker by its pid and removes its data.
import { brokerStatus, defaultBrokerDir, kafkaVersion, startBroker, stopBroker } from './kafka-broker.mjs';

const port = Number(process.env.KAFKA_PORT ?? 9092);
if (!Number.isSafeInteger(port) || port <= 0 || port > 65534) {
  console.error(`kafka: KAFKA_PORT must be a TCP port below 65535, got "${process.env.KAFKA_PORT}"`);
  process.exit(2);
}
const dir = defaultBrokerDir(port);
const log = (line) => console.error(`kafka: ${line}`);
const command = process.argv[2];

try {
  switch (command) {
    case 'start': {
      const { bootstrap, pid, started } = await startBroker({ port, dir, log });
      log(started ? `Kafka ${kafkaVersion} answers at ${bootstrap} (pid ${pid})` : `already running at ${bootstrap}`);
      console.log(bootstrap);
      break;
    }
    case 'stop': {
      const { stopped, pid } = await stopBroker({ port, dir });
      log(stopped ? `stopped the broker (pid ${pid})` : 'no broker of this script was running');
      break;
    }
    case 'restart': {
      await stopBroker({ port, dir });
      const { bootstrap } = await startBroker({ port, dir, log, fresh: true });
      console.log(bootstrap);
      break;
    }
    case 'status': {
      const status = await brokerStatus({ port, dir });
      const what = status.answers
        ? `running at 127.0.0.1:${port}${status.pid ? ` (pid ${status.pid})` : ' (not started by this script)'}`
        : status.running
          ? `starting (pid ${status.pid}), not answering yet at 127.0.0.1:${port}`
          : `not running at 127.0.0.1:${port}`;
      console.log(`kafka: ${what}`);
      process.exitCode = status.answers ? 0 : 1;
      break;
    }
    default:
      console.error('usage: node scripts/kafka.mjs start|stop|status|restart');
      process.exitCode = 2;
  }
} catch (error) {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
