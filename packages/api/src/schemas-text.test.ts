import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { errorHandlerPlugin } from './fastify/error-handler-plugin.js';
import { isApiError } from './errors.js';
import { textSchema } from './schemas.js';

describe('textSchema', () => {
  it('refuses NUL, control characters and lone surrogates with a 400 naming the field', async () => {
    const app = Fastify({ logger: false });
    await app.register(errorHandlerPlugin);
    app.post(
      '/notes',
      {
        schema: {
          body: {
            type: 'object',
            properties: { title: textSchema({ minLength: 1, maxLength: 50 }), text: textSchema({ multiline: true }) },
          },
        },
      },
      async (request) => request.body,
    );
    const send = (body: unknown) => app.inject({ method: 'POST', url: '/notes', payload: body as object });
    for (const title of ['a\u0000b', 'bell\u0007', 'two\nlines', 'del\u007f', 'lone \ud800 surrogate']) {
      const response = await send({ title });
      expect(response.statusCode, JSON.stringify(title)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ in: 'body', pointer: '/title' }] });
    }
    expect((await send({ text: 'x\u0000' })).statusCode).toBe(400);
    expect((await send({ title: 'Ünïcødé 🎉 – fine', text: 'line one\n\tline two\r\n' })).statusCode).toBe(200);
    await app.close();
  });

  it('refuses bad options with INVALID_OPTION', () => {
    for (const options of [{ minLength: -1 }, { maxLength: 0 }, { multiline: 'yes' }]) {
      let thrown: unknown;
      try {
        textSchema(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(isApiError(thrown, 'INVALID_OPTION')).toBe(true);
    }
  });
});
