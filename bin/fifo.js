#!/usr/bin/env node
// The `fifo` command. TypeScript sources run through tsx, so `npx fifo` works right after
// `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli/main.ts');
