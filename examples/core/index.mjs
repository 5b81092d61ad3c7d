// Coded errors for your own package with @infra/core: a family of error classes that every copy of
// the package recognises, narrowed by code.
import { InfraError, errorFamily, isRetryable, optionChecks } from '@infra/core';

/** @extends {InfraError<'OUT_OF_STOCK' | 'INVALID_OPTION'>} */
class ShopError extends InfraError {}

class OutOfStockError extends ShopError {
  /** @param {string} sku */
  constructor(sku) {
    super('OUT_OF_STOCK', `No ${sku} left`, { isRetryable: true });
    this.sku = sku;
  }
}

class InvalidOptionError extends ShopError {
  /** @param {string} message */
  constructor(message) {
    super('INVALID_OPTION', message);
  }
}

/** @type {import('@infra/core').ErrorFamily<ShopError, { OUT_OF_STOCK: OutOfStockError }>} */
const family = errorFamily(ShopError, '@acme/shop');
const check = optionChecks((message) => new InvalidOptionError(message));

/** @param {string} sku @param {number} quantity */
function reserve(sku, quantity) {
  check.positive('quantity', quantity);
  throw new OutOfStockError(sku);
}

try {
  reserve('sku-1', 2);
} catch (error) {
  if (family.is(error, 'OUT_OF_STOCK')) {
    console.log(`out of stock: ${error.sku}, worth retrying later: ${isRetryable(error)}`);
  }
}

try {
  reserve('sku-1', -1);
} catch (error) {
  if (family.is(error)) console.log(`${error.code}: ${error.message}`);
}
