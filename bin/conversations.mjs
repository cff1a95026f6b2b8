#!/usr/bin/env node
// `npx conversations …`: runs the TypeScript CLI through tsx, which is a dependency.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
