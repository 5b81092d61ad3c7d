// Overhead per call of the protected client versus the bare SDK, same server, same run.
import OpenAI from 'openai';
import { createOpenAIClient, preloadTokenizer } from '../dist/index.js';
import { BODY, startServer } from './fake-server.mjs';

// Many short rounds: the machine's load drifts, and a ratio paired within a round of a few tens of
// milliseconds, then the median over many rounds, is what that drift disturbs least.
const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const IN_FLIGHT = 16;
const request = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello in five words.' }],
  max_completion_tokens: 20,
};

/**
 * Wall-clock and CPU µs per call for `calls` calls with `inFlight` outstanding. CPU time (this
 * process, server included, the same for every client) is what the other tenants of a shared
 * machine disturb least.
 */
async function drive(variant, calls, inFlight) {
  const { client, unique } = variant.unique === true ? variant : { client: variant, unique: false };
  let next = 0;
  let sent = 0;
  // A new prompt for every call: nothing the limiter counted before comes back.
  const body = unique
    ? () => ({
        ...request,
        messages: [{ role: 'user', content: `Say hello in five words, call ${String(sent++)} of ${String(calls)}.` }],
      })
    : () => request;
  const worker = async () => {
    while (next++ < calls) await client.chat.completions.create(body());
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wall = ((performance.now() - start) * 1000) / calls;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / calls };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** Outside load only ever slows a round down: the fastest round is the least disturbed. */
const best = (values) => Math.min(...values);

/** A fetch answering at once from memory: what is left is the clients' own CPU cost. */
const memoryFetch = () => Promise.resolve(new Response(BODY, { headers: { 'content-type': 'application/json' } }));

/** Name of the A/A control row. */
export const CONTROL = 'bare SDK again (A/A control)';

function clients(baseURL, fetch) {
  const apiKey = 'sk-bench-000000000000';
  const common = { apiKey, baseURL, ...(fetch ? { fetch } : {}) };
  return {
    'bare openai SDK': new OpenAI({ ...common, maxRetries: 0 }),
    // An A/A control: the same bare client again. Its ratio is the resolution of the measurement.
    [CONTROL]: new OpenAI({ ...common, maxRetries: 0 }),
    'protected (breaker + retry)': createOpenAIClient(common),
    'protected + RPM/TPM limiter': createOpenAIClient({
      ...common,
      rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e9 },
    }),
    'limiter, a new prompt per call': {
      client: createOpenAIClient({ ...common, rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e9 } }),
      unique: true,
    },
  };
}

/**
 * Rows of { transport, inFlight, name, us (best round), median, ratio, cpu (median CPU µs per
 * call), cpuRatio }; ratios are medians of per-round ratios to the bare SDK. `local
 * HTTP` calls a fake server on 127.0.0.1 (the target: overhead <= 5%); `in-memory` answers from
 * memory and shows the clients' own CPU cost per call.
 */
export async function benchOverhead() {
  const server = await startServer();
  await preloadTokenizer('gpt-4o-mini');
  const rows = [];
  for (const [transport, variants, levels] of [
    ['local HTTP', clients(server.baseURL), [1, IN_FLIGHT]],
    ['in-memory', clients('http://127.0.0.1:9/v1', memoryFetch), [1]],
  ]) {
    rows.push(...(await measure(transport, variants, levels)));
    await Promise.all(
      Object.values(variants).map((variant) => (variant.unique === true ? variant.client : variant).close?.()),
    );
  }
  await server.close();
  return rows;
}

async function measure(transport, variants, levels) {
  const rows = [];
  for (const inFlight of levels) {
    const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    const cpuSamples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    // Warm-up: JIT, sockets, the tokenizer's caches.
    for (const client of Object.values(variants)) await drive(client, 300, inFlight);
    const names = Object.keys(variants);
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates every round so that drifting outside load falls on every variant alike.
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) {
        const { wall, cpu } = await drive(variants[name], CALLS, inFlight);
        samples[name].push(wall);
        cpuSamples[name].push(cpu);
      }
    }
    // Ratios are paired round by round (the variants of a round ran back to back), then the
    // median is taken: slow drifts of the machine's load cancel out of each pair.
    const paired = (series, name) =>
      median(series[name].map((value, round) => value / series['bare openai SDK'][round]));
    for (const name of names) {
      rows.push({
        transport,
        inFlight,
        name,
        us: best(samples[name]),
        median: median(samples[name]),
        ratio: paired(samples, name),
        cpu: median(cpuSamples[name]),
        cpuRatio: paired(cpuSamples, name),
      });
    }
  }
  return rows;
}
