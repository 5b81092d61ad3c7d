import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  InfraError,
  describeValue,
  errorCodes,
  errorFamily,
  errorFamilyOf,
  errorMessage,
  invalidOptionClass,
  invalidOptionMessage,
  isRetryable,
  optionChecks,
} from './index.js';
import type { ErrorGuard, InvalidOptionErrorOf } from './index.js';

type ShopCode = 'OUT_OF_STOCK' | 'INVALID_OPTION';
class ShopError extends InfraError<ShopCode> {}
class OutOfStockError extends ShopError {
  readonly sku: string;
  constructor(sku: string) {
    super('OUT_OF_STOCK', `No ${sku} left`, { isRetryable: true });
    this.sku = sku;
  }
}
const shop = errorFamily<ShopError, { OUT_OF_STOCK: OutOfStockError }>(ShopError, '@test/shop');

describe('error families', () => {
  it('carry code, message, name, cause and isRetryable', () => {
    const cause = new Error('disk');
    const error = new ShopError('INVALID_OPTION', 'bad', { cause });
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message: 'bad', name: 'ShopError', isRetryable: false });
    expect(error.cause).toBe(cause);
    expect(new OutOfStockError('x').name).toBe('OutOfStockError');
    expect('cause' in new ShopError('INVALID_OPTION', 'no cause')).toBe(false);
  });

  it('recognise subclasses and codes, and narrow to the code class', () => {
    const error: unknown = new OutOfStockError('sku-1');
    expect(shop.is(error)).toBe(true);
    expect(shop.is(error, 'OUT_OF_STOCK')).toBe(true);
    expect(shop.is(error, 'INVALID_OPTION')).toBe(false);
    if (shop.is(error, 'OUT_OF_STOCK')) expectTypeOf(error.sku).toEqualTypeOf<string>();
    expect(errorFamilyOf(error)).toBe('@test/shop');
  });

  it('recognise an error of another copy of the same package, and nothing else', () => {
    // A second copy of the package defines its own classes with the same family name.
    class CopyError extends InfraError<ShopCode> {}
    errorFamily(CopyError, '@test/shop');
    expect(shop.is(new CopyError('OUT_OF_STOCK', 'from the other copy'), 'OUT_OF_STOCK')).toBe(true);

    class OtherError extends InfraError {}
    errorFamily(OtherError, '@test/other');
    expect(shop.is(new OtherError('OUT_OF_STOCK', 'x'))).toBe(false);
    expect(shop.is(Object.assign(new Error('plain'), { code: 'OUT_OF_STOCK' }))).toBe(false);
    expect(shop.is(null)).toBe(false);
    expect(shop.is('OUT_OF_STOCK')).toBe(false);
    expect(errorFamilyOf(new Error('x'))).toBeUndefined();
  });

  it('make a frozen codes object whose keys are its values', () => {
    const codes = errorCodes(['OUT_OF_STOCK', 'INVALID_OPTION']);
    expect(codes).toEqual({ OUT_OF_STOCK: 'OUT_OF_STOCK', INVALID_OPTION: 'INVALID_OPTION' });
    expect(Object.isFrozen(codes)).toBe(true);
    expectTypeOf(codes.OUT_OF_STOCK).toEqualTypeOf<'OUT_OF_STOCK'>();
    expectTypeOf<(typeof codes)[keyof typeof codes]>().toEqualTypeOf<ShopCode>();
  });

  it('tell retryable errors by their flag', () => {
    expect(isRetryable(new OutOfStockError('a'))).toBe(true);
    expect(isRetryable(new ShopError('INVALID_OPTION', 'x'))).toBe(false);
    expect(isRetryable({ isRetryable: true })).toBe(true);
    expect(isRetryable(new Error('x'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });

  it('describe values and messages for humans', () => {
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(80)}…`));
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue([])).toBe('an array');
    expect(describeValue(new Date(0))).toBe('a Date');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(/^https:\/\/.*$/i)).toBe('/^https:\\/\\/.*$/i');
    expect(invalidOptionMessage('ttl', -1, 'a finite number >= 0')).toBe(
      'Invalid option "ttl": expected a finite number >= 0, got -1',
    );
    expect(invalidOptionMessage('table', 'a b', 'an SQL name', 'argument')).toBe(
      'Invalid argument "table": expected an SQL name, got "a b"',
    );
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('text')).toBe('text');
    expect(errorMessage(42)).toBe('42');
  });

  it('make the INVALID_OPTION class of a family, named, in the family, with the one message', () => {
    type ArgCode = ShopCode | 'INVALID_ARGUMENT';
    class ArgShopError extends InfraError<ArgCode> {}
    const InvalidShopOption = invalidOptionClass(ArgShopError, 'InvalidShopOption');
    const isShopError: ErrorGuard<ArgShopError, { INVALID_OPTION: InvalidOptionErrorOf<ArgShopError> }> = errorFamily<
      ArgShopError,
      { INVALID_OPTION: InvalidOptionErrorOf<ArgShopError> }
    >(ArgShopError, '@test/arg-shop').is;

    const error: unknown = new InvalidShopOption('quantity', -1, 'a finite number > 0');
    expect(error).toBeInstanceOf(ArgShopError);
    expect(error).toBeInstanceOf(InvalidShopOption);
    expect(error).toMatchObject({
      name: 'InvalidShopOption',
      code: 'INVALID_OPTION',
      option: 'quantity',
      value: -1,
      isRetryable: false,
      message: 'Invalid option "quantity": expected a finite number > 0, got -1',
    });
    expect(InvalidShopOption.name).toBe('InvalidShopOption');
    expect(isShopError(error, 'INVALID_OPTION')).toBe(true);
    if (isShopError(error, 'INVALID_OPTION')) expectTypeOf(error.option).toEqualTypeOf<string>();
    expect(new InvalidShopOption('table', 'a b', 'an SQL name', 'INVALID_ARGUMENT')).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'Invalid argument "table": expected an SQL name, got "a b"',
    });
    expect(invalidOptionClass(ShopError).name).toBe('InvalidOptionError');

    const check = optionChecks(InvalidShopOption);
    expect(() => check.positive('quantity', 0)).toThrow(InvalidShopOption);
    expect(() => check.positive('quantity', 0)).toThrow(
      'Invalid option "quantity": expected a finite number > 0, got 0',
    );
  });
});
