// Coded errors for your own package with @infra/core: a family of error classes that every copy of
// the package recognises, narrowed by code, and option checks that throw the family's INVALID_OPTION.
import assert from 'node:assert/strict';
import { InfraError, errorFamily, invalidOptionClass, isRetryable, optionChecks } from '@infra/core';

/** @extends {InfraError<'OUT_OF_STOCK' | 'INVALID_OPTION'>} */
class ShopError extends InfraError {}

class OutOfStockError extends ShopError {
  /** @param {string} sku */
  constructor(sku) {
    super('OUT_OF_STOCK', `No ${sku} left`, { isRetryable: true });
    this.sku = sku;
  }
}

// A ShopError with code INVALID_OPTION, `option`, `value` and the message every @infra package uses.
const InvalidOptionError = invalidOptionClass(ShopError);

/** @type {import('@infra/core').ErrorFamily<ShopError, { OUT_OF_STOCK: OutOfStockError }>} */
const family = errorFamily(ShopError, '@acme/shop');
const check = optionChecks(InvalidOptionError);

/** @param {string} sku @param {number} quantity */
function reserve(sku, quantity) {
  check.positive('quantity', quantity);
  throw new OutOfStockError(sku);
}

try {
  reserve('sku-1', 2);
} catch (error) {
  assert.ok(family.is(error, 'OUT_OF_STOCK'));
  console.log(`out of stock: ${error.sku}, worth retrying later: ${isRetryable(error)}`);
}

try {
  reserve('sku-1', -1);
} catch (error) {
  assert.ok(family.is(error, 'INVALID_OPTION') && error instanceof InvalidOptionError);
  // The message names the option, what it expects and the value it got.
  assert.equal(error.message, 'Invalid option "quantity": expected a finite number > 0, got -1');
  console.log(`${error.code}: ${error.message} (option ${error.option}, value ${String(error.value)})`);
}
