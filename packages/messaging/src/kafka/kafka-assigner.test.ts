import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { subscriptionAssigner, type AssignerProtocolLike } from './kafka-assigner.js';

const protocol = AssignerProtocol as unknown as AssignerProtocolLike & {
  MemberAssignment: { decode(buffer: Buffer): { assignment: Record<string, number[]> } | null };
};

describe('subscription-aware partition assigner', () => {
  it('gives each partition only to members subscribed to its topic, spread evenly', async () => {
    const partitions = new Map([
      ['orders', [0, 1, 2]],
      ['audit', [0, 1, 2]],
      ['emails', [0, 1]],
    ]);
    const assigner = subscriptionAssigner(protocol, (topics) =>
      Promise.resolve(new Map(topics.map((topic) => [topic, partitions.get(topic) ?? []]))),
    );
    const member = (memberId: string, topics: string[]) => ({
      memberId,
      memberMetadata: assigner.protocol({ topics }).metadata,
    });
    // The leader ('a') does not read 'emails': its partitions still go to the member that does.
    const result = await assigner.assign({
      members: [member('a', ['orders', 'audit']), member('b', ['orders', 'audit', 'emails']), member('c', ['audit'])],
      topics: ['orders', 'audit'],
    });
    const byMember = Object.fromEntries(
      result.map(({ memberId, memberAssignment }) => [
        memberId,
        protocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {},
      ]),
    );
    expect(byMember.b?.emails).toEqual([0, 1]);
    expect(byMember.a?.emails).toBeUndefined();
    expect(byMember.c?.orders).toBeUndefined();
    for (const [topic, list] of partitions) {
      const assigned = Object.values(byMember)
        .flatMap((assignment) => assignment[topic] ?? [])
        .sort();
      expect(assigned, topic).toEqual(list);
    }
    const loads = Object.values(byMember).map((assignment) =>
      Object.values(assignment).reduce((sum, list) => sum + list.length, 0),
    );
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  });
});
