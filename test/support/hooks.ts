/**
 * Mocha root hooks for the whole run. Server backends hang their once-per-run set-up here so that
 * every test file shares it: the test PostgreSQL (a real server or PGlite, see ./postgres.ts) is
 * started once, on first use by a test file, and closed here at the end of the run.
 */
import type { RootHookObject } from 'mocha';
import { closeSharedTestPostgres } from './postgres';

export const mochaHooks: RootHookObject = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await closeSharedTestPostgres();
  },
};
