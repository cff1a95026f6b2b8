import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admissionSettingsFor } from '../../src/activities/index.js';
import { ConfigError, admissionFrom, loadConfig } from '../../src/config.js';

describe('admission configuration', () => {
  test('the default is the seed\'s: 3 running conversations per user, evict over the limit', () => {
    assert.deepEqual(admissionFrom(loadConfig({})), { defaults: { limit: 3, policy: 'evict' }, overrides: undefined });
  });

  test('a per-user override replaces only what it names', () => {
    const config = admissionFrom(
      loadConfig({ ADMISSION_LIMIT: '5', ADMISSION_POLICY: 'queue', ADMISSION_USER_OVERRIDES: '{"alice":{"limit":10},"bot.1":{"policy":"reject"},"free":{"limit":0}}' }),
    );
    assert.deepEqual(admissionSettingsFor(config, 'alice'), { limit: 10, policy: 'queue' });
    assert.deepEqual(admissionSettingsFor(config, 'bot.1'), { limit: 5, policy: 'reject' });
    assert.deepEqual(admissionSettingsFor(config, 'free'), { limit: 0, policy: 'queue' });
    assert.deepEqual(admissionSettingsFor(config, 'bob'), { limit: 5, policy: 'queue' });
  });

  test('bad values are refused naming the variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.join('\n');
        throw error;
      }
      return '';
    };
    assert.match(problems({ ADMISSION_POLICY: 'drop' }), /^ADMISSION_POLICY="drop".*evict .* queue .* reject/s);
    assert.match(problems({ ADMISSION_LIMIT: '-1' }), /^ADMISSION_LIMIT="-1"/);
    assert.match(problems({ ADMISSION_USER_OVERRIDES: '{"alice":{"limit":"ten"}}' }), /^ADMISSION_USER_OVERRIDES=/);
    assert.match(problems({ ADMISSION_USER_OVERRIDES: '{"alice":{"burst":2}}' }), /^ADMISSION_USER_OVERRIDES=/);
    assert.match(problems({ ADMISSION_USER_OVERRIDES: '{"no spaces":{"limit":2}}' }), /^ADMISSION_USER_OVERRIDES=/);
  });
});
