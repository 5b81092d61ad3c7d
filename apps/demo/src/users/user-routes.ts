import { successEnvelopeSchema, textSchema, type JsonSchema } from '@infra/api';
import type { FastifyPluginCallback } from 'fastify';
import { userIdSchema } from '../challenges/challenge-schemas.js';
import type { UserService } from './user-service.js';

const userSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'points', 'createdAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    points: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    stats: {
      type: 'object',
      required: ['completions', 'totalScore', 'bestScore', 'lastCompletedAt'],
      properties: {
        completions: { type: 'integer' },
        totalScore: { type: 'integer' },
        bestScore: { type: 'integer' },
        lastCompletedAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
  },
};

const points = { type: 'integer', minimum: 0, maximum: 1_000_000 };

/** The `/users` and `/transfers` routes of API version 1. */
export function userRoutes(userService: UserService): FastifyPluginCallback {
  return (app, _options, done) => {
    app.post<{ Body: { id: string; name: string; points?: number } }>(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'Create a user',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name'],
            properties: { id: userIdSchema, name: textSchema({ minLength: 1, maxLength: 120 }), points },
          },
          response: { 201: successEnvelopeSchema(userSchema) },
        },
      },
      async (request, reply) => {
        const user = await userService.createUser(request.body.id, request.body.name, request.body.points ?? 0);
        return reply.code(201).send({ success: true, data: user });
      },
    );

    app.get<{ Params: { id: string } }>(
      '/users/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'A user with points and statistics (statistics are updated asynchronously)',
          params: { type: 'object', required: ['id'], properties: { id: userIdSchema } },
          response: { 200: successEnvelopeSchema(userSchema) },
        },
      },
      async (request) => ({ success: true, data: await userService.getUser(request.params.id) }),
    );

    app.post<{ Body: { from: string; to: string; amount: number } }>(
      '/transfers',
      {
        schema: {
          tags: ['users'],
          summary: 'Move points from one user to another in one transaction',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to', 'amount'],
            properties: {
              from: userIdSchema,
              to: userIdSchema,
              amount: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            },
          },
          response: {
            201: successEnvelopeSchema({
              type: 'object',
              required: ['id', 'from', 'to', 'amount', 'createdAt', 'balances'],
              properties: {
                id: { type: 'string' },
                from: { type: 'string' },
                to: { type: 'string' },
                amount: { type: 'integer' },
                createdAt: { type: 'string', format: 'date-time' },
                balances: { type: 'object', additionalProperties: { type: 'integer' } },
              },
            }),
          },
        },
      },
      async (request, reply) => {
        const transfer = await userService.transferPoints(request.body.from, request.body.to, request.body.amount);
        return reply.code(201).send({ success: true, data: transfer });
      },
    );
    done();
  };
}
