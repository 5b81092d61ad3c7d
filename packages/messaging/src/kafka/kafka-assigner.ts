/** kafkajs' `AssignerProtocol` (public export), which encodes what members send in a group join. */
export interface AssignerProtocolLike {
  MemberMetadata: {
    encode(metadata: { version: number; topics: string[]; userData?: Buffer }): Buffer;
    decode(buffer: Buffer): { version: number; topics: string[] } | null;
  };
  MemberAssignment: {
    encode(assignment: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer;
  };
}

export interface GroupMember {
  memberId: string;
  memberMetadata: Buffer;
}

/** A kafkajs partition assigner (the documented custom-assigner shape). */
export interface PartitionAssigner {
  name: string;
  version: number;
  assign(group: {
    members: GroupMember[];
    topics: string[];
  }): Promise<{ memberId: string; memberAssignment: Buffer }[]>;
  protocol(subscription: { topics: string[] }): { name: string; metadata: Buffer };
}

export const SUBSCRIPTION_ASSIGNER = 'InfraSubscribedRoundRobin';

/**
 * Assigns each partition only to members that subscribed to its topic, the fewest-loaded first.
 * kafkajs' round-robin assigner spreads the partitions of the leader's topics over all members,
 * whatever they subscribed to: a member given a topic it does not read drops it, and nobody reads
 * that partition. `partitionsOf` answers for every topic a member wants, not only the leader's.
 */
export function subscriptionAssigner(
  protocol: AssignerProtocolLike,
  partitionsOf: (topics: string[]) => Promise<Map<string, number[]>>,
): PartitionAssigner {
  return {
    name: SUBSCRIPTION_ASSIGNER,
    version: 0,
    async assign({ members }) {
      const wants = members.map((member) => ({
        memberId: member.memberId,
        topics: protocol.MemberMetadata.decode(member.memberMetadata)?.topics ?? [],
      }));
      const partitions = await partitionsOf([...new Set(wants.flatMap((member) => member.topics))]);
      return assignSubscribed(wants, partitions).map((member) => ({
        memberId: member.memberId,
        memberAssignment: protocol.MemberAssignment.encode({ version: 0, assignment: member.assignment }),
      }));
    },
    protocol({ topics }) {
      return { name: SUBSCRIPTION_ASSIGNER, metadata: protocol.MemberMetadata.encode({ version: 0, topics }) };
    },
  };
}

interface Want {
  memberId: string;
  topics: Set<string>;
  load: number;
  assignment: Record<string, number[]>;
}

/**
 * The client-independent plan: each partition of `partitions` goes to a member subscribed to its
 * topic, the fewest-loaded first; topics few members read are served first, so that the members
 * free to take anything balance the load afterwards.
 */
export function assignSubscribed(
  members: readonly { memberId: string; topics: readonly string[] }[],
  partitions: ReadonlyMap<string, readonly number[]>,
): { memberId: string; assignment: Record<string, number[]> }[] {
  const wants = members
    .map((member): Want => ({ memberId: member.memberId, topics: new Set(member.topics), load: 0, assignment: {} }))
    .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const takersOf = (topic: string): number => wants.filter((member) => member.topics.has(topic)).length;
  const topics = [...new Set(wants.flatMap((member) => [...member.topics]))].sort(
    (a, b) => takersOf(a) - takersOf(b) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const topic of topics) {
    const takers = wants.filter((member) => member.topics.has(topic));
    for (const partition of partitions.get(topic) ?? []) {
      const taker = takers.reduce((least, member) => (member.load < least.load ? member : least));
      taker.load += 1;
      (taker.assignment[topic] ??= []).push(partition);
    }
  }
  return wants.map(({ memberId, assignment }) => ({ memberId, assignment }));
}
