export * from './types.js';
export * from './errors.js';
export * from './field-error.js';
export * from './resources.js';
