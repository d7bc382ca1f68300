import { sourceSchema } from '../../config/schema';
import { DRIVERS, SourceType } from '../../sources/registry';

/**
 * Every source type the config accepts has a driver. The registry's mapped type makes a
 * missing one a compile error (this file, like every test, is type-checked); the check
 * below says the same at run time, naming the type.
 */
test('every source type in the config schema has a driver', () => {
  const types: SourceType[] = sourceSchema.shape.type.options;
  for (const type of types) expect([type, typeof DRIVERS[type]?.connect]).toEqual([type, 'function']);
  expect(Object.keys(DRIVERS).sort()).toEqual([...types].sort());
});
