export * from './delegating.js';
export * from './secure-serving.js';
