export * from './alarms.ts';
export * from './config.ts';
export * from './dashboard.ts';
export * from './database.ts';
export * from './endpoints.ts';
export * from './fifo-function.ts';
export * from './fifo-ledger-stack.ts';
export * from './logins.ts';
