import { describe, expect, it } from 'vitest';
import { ChallengeGenerator, parseGenerated, templateChallenge } from './challenge-generator.js';

describe('challenge generation without OpenAI', () => {
  it('uses a template that fits the difficulty and names the topic', async () => {
    const reasons: string[] = [];
    const generator = new ChallengeGenerator({ onFallback: (reason) => reasons.push(reason) });
    const result = await generator.generate({ topic: 'Event Sourcing!', difficulty: 'easy' });
    expect(result).toMatchObject({ source: 'template', reason: 'not-configured' });
    expect(result.challenge).toMatchObject({ difficulty: 'easy', category: 'event-sourcing', points: 10 });
    expect(result.challenge.title).toContain('Event Sourcing!');
    expect(reasons).toEqual(['not-configured']);
  });

  it('gives every difficulty its own template', () => {
    const titles = (['easy', 'medium', 'hard'] as const).map(
      (difficulty) => templateChallenge({ topic: 'queues', difficulty }).title,
    );
    expect(new Set(titles).size).toBe(3);
  });
});

describe('parseGenerated', () => {
  const request = { topic: 'graphs', difficulty: 'hard' as const };

  it('reads the JSON answer', () => {
    expect(parseGenerated('{"title":" Shortest path ","description":"Dijkstra with a heap."}', request)).toEqual({
      title: 'Shortest path',
      description: 'Dijkstra with a heap.',
      difficulty: 'hard',
      category: 'graphs',
      points: 40,
    });
  });

  it.each([
    null,
    undefined,
    '',
    'not json',
    '[]',
    '{"title":"x"}',
    '{"title":"","description":"y"}',
    '{"title":1,"description":"y"}',
  ])('refuses %j', (content) => {
    expect(parseGenerated(content, request)).toBeUndefined();
  });
});
