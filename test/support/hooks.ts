/**
 * Mocha root hooks for the whole unit/conformance run. Server backends hang their once-per-run
 * set-up (e.g. starting PGlite) here so every test file shares it.
 */
import type { RootHookObject } from 'mocha';

export const mochaHooks: RootHookObject = {};
