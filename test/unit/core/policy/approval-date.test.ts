import { describe, expect, test } from 'vitest';
import { utcDayStartMs } from '../../../../src/core/policy/approval-date.js';

describe('utcDayStartMs', () => {
  test.each([
    { date: '2027-04-18', valid: true },
    { date: '2028-02-29', valid: true },
    { date: '2027-02-29', valid: false },
    { date: '2027-02-30', valid: false },
    { date: '2027-4-18', valid: false },
    { date: '2027-04-18T00:00:00Z', valid: false },
    { date: '2027-00-10', valid: false },
  ])('$date valid: $valid', ({ date, valid }) => {
    expect(utcDayStartMs(date) !== undefined).toBe(valid);
  });
});
