import { MemoryStorage } from './memory.js';
import { storageContract } from '../../../../test/fixtures/storage-contract.js';

storageContract('MemoryStorage', () => new MemoryStorage());
