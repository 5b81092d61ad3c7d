import { InvalidOptionError } from './errors.js';

/** Price of a model in US dollars per million tokens. */
export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  input: number;
  /** USD per 1M output (completion) tokens. */
  output: number;
}

/**
 * Standard (non-batch, uncached) list prices in USD per 1M tokens, as published by OpenAI when
 * this version was released. They are an **estimate** for dashboards, not a bill: prices change,
 * cached input is cheaper, and some models bill extra (audio, images, reasoning). Override or
 * extend them with the client's `prices` option. A model is matched exactly, else by the longest
 * key that prefixes it (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`).
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'gpt-3.5-turbo-instruct': { input: 1.5, output: 2 },
  o1: { input: 15, output: 60 },
  'o1-mini': { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
  'davinci-002': { input: 2, output: 2 },
  'babbage-002': { input: 0.4, output: 0.4 },
  'text-davinci-003': { input: 20, output: 20 },
});

/** Looks prices up by model name; built once per client from the defaults and the overrides. */
export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;
  /** Keys sorted longest first, so the most specific prefix wins. */
  private readonly prefixes: string[];
  private readonly resolved = new Map<string, ModelPrice | undefined>();

  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.prices = new Map(Object.entries(DEFAULT_PRICES));
    for (const [model, price] of Object.entries(overrides)) {
      const given: unknown = price;
      const { input, output } = (given ?? {}) as Partial<ModelPrice>;
      if (typeof input !== 'number' || !(input >= 0) || typeof output !== 'number' || !(output >= 0)) {
        throw new InvalidOptionError(`prices.${model}`, price, '{ input, output } in USD per 1M tokens, both >= 0');
      }
      this.prices.set(model, { input, output });
    }
    this.prefixes = [...this.prices.keys()].sort((a, b) => b.length - a.length);
  }

  /** The price of `model`, or undefined when the table does not know it. */
  lookup(model: string): ModelPrice | undefined {
    if (this.resolved.has(model)) return this.resolved.get(model);
    let price = this.prices.get(model);
    if (!price) {
      const key = this.prefixes.find((prefix) => model.startsWith(`${prefix}-`));
      price = key === undefined ? undefined : this.prices.get(key);
    }
    if (this.resolved.size < 1000) this.resolved.set(model, price);
    return price;
  }

  /** Estimated cost in USD; 0 for a model the table does not know. */
  cost(model: string, promptTokens: number, completionTokens: number): number {
    const price = this.lookup(model);
    if (!price) return 0;
    return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
  }
}
