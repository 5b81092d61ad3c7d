export { assertNoDuplicateFamilies, duplicateFamilies, parsePrometheus, valueOf } from '@infra/test-utils';
export type { Exposition, Sample } from '@infra/test-utils';
