import {
  paginatedEnvelopeSchema,
  paginationQuerySchema,
  successEnvelopeSchema,
  textSchema,
  type JsonSchema,
} from '@infra/api';
import { DIFFICULTIES } from './challenge.js';

/** Largest page size of the challenge listing. */
export const MAX_PAGE_SIZE = 50;

// Text fields refuse NUL and control characters with a 400 before they reach the database.
const title = textSchema({ minLength: 1, maxLength: 200 });
const description = textSchema({ minLength: 1, maxLength: 4000, multiline: true });
const difficulty = { type: 'string', enum: [...DIFFICULTIES] };
const category = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[a-z0-9][a-z0-9-]*$' };
const points = { type: 'integer', minimum: 0, maximum: 1000 };
const userId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' };

export const challengeSchema: JsonSchema = {
  $id: 'Challenge',
  type: 'object',
  required: ['id', 'title', 'description', 'difficulty', 'category', 'points', 'source', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    title: { type: 'string' },
    description: { type: 'string' },
    difficulty,
    category: { type: 'string' },
    points: { type: 'integer' },
    source: { type: 'string', enum: ['manual', 'seed', 'openai', 'template'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const challengeRef = { $ref: 'Challenge#' };

export const idParamsSchema: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
};

export const listChallengesSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'List challenges, newest first (offset pagination with Link headers)',
  querystring: paginationQuerySchema({ maxLimit: MAX_PAGE_SIZE }),
  response: { 200: paginatedEnvelopeSchema(challengeRef) },
};

export const getChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'One challenge (served from the cache when it is there)',
  params: idParamsSchema,
  response: { 200: successEnvelopeSchema(challengeRef) },
};

export const createChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'Create a challenge',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['title', 'description', 'difficulty', 'category', 'points'],
    properties: { title, description, difficulty, category, points },
  },
  response: { 201: successEnvelopeSchema(challengeRef) },
};

export const updateChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'Change fields of a challenge (its cache entry is invalidated)',
  params: idParamsSchema,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { title, description, difficulty, category, points },
  },
  response: { 200: successEnvelopeSchema(challengeRef) },
};

export const deleteChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'Delete a challenge (its cache entry is invalidated)',
  params: idParamsSchema,
  response: { 204: { type: 'null' } },
};

export const completeChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'Complete a challenge: records the score, credits the points, publishes challenge.completed',
  params: idParamsSchema,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['userId', 'score'],
    properties: { userId, score: points },
  },
  response: {
    201: successEnvelopeSchema({
      type: 'object',
      required: ['id', 'challengeId', 'userId', 'score', 'completedAt'],
      properties: {
        id: { type: 'string' },
        challengeId: { type: 'string' },
        userId: { type: 'string' },
        score: { type: 'integer' },
        completedAt: { type: 'string', format: 'date-time' },
      },
    }),
  },
};

export const generateChallengeSchema: JsonSchema = {
  tags: ['challenges'],
  summary: 'Generate a challenge with OpenAI, or from a template when OpenAI is not available (rate-limited)',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['topic'],
    properties: {
      topic: textSchema({ minLength: 2, maxLength: 120 }),
      difficulty: { ...difficulty, default: 'medium' },
    },
  },
  response: {
    201: successEnvelopeSchema(challengeRef, {
      type: 'object',
      required: ['source'],
      properties: {
        source: { type: 'string', enum: ['openai', 'template'] },
        reason: { type: 'string', enum: ['not-configured', 'circuit-open', 'upstream-unavailable', 'invalid-output'] },
        model: { type: 'string' },
      },
    }),
  },
};

export { userId as userIdSchema };
