import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

/** Deletes the streams (and with them their consumers) whose name starts with `prefix`. */
export async function deleteNatsStreams(servers: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: servers.split(','), name: 'messaging-test-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    let deleted = 0;
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(prefix)) continue;
      await jsm.streams.delete(name);
      deleted += 1;
    }
    return deleted;
  } finally {
    await nc.close();
  }
}
