/**
 * Resolves a callback plugin's options. A refusal goes to `done` (where Fastify expects a callback
 * plugin's error) and the result is `undefined`: the plugin then returns without registering anything.
 */
export function resolvePluginOptions<O, R>(
  resolve: (options: O) => R,
  options: O,
  done: (error?: Error) => void,
): R | undefined {
  try {
    return resolve(options);
  } catch (error) {
    done(error as Error);
    return undefined;
  }
}
