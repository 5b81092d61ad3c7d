export { withRollback } from './with-rollback.js';
export type { RollbackTarget } from './with-rollback.js';
