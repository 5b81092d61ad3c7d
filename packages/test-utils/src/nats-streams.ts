/**
 * Deletes the NATS JetStream streams (and with them their consumers) whose name starts with
 * `prefix`, as a test cleans up what it created on a shared server; how many it deleted.
 */
export async function deleteNatsStreams(servers: string, prefix: string): Promise<number> {
  const [{ connect }, { jetstreamManager }] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ]);
  const nc = await connect({ servers: servers.split(','), name: 'test-cleanup', timeout: 5000 });
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
