export * from './evaluator.js';
