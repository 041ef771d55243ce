/**
 * The one condition engine of a process: CEL (src/conditions/), shared by every policy compiled
 * here, so an expression written in many entries is planned once.
 */
import { createCelConditionEngine } from '../conditions/engine.js';
import type { ConditionEngine } from '../core/policy/condition.js';

export const CONDITION_ENGINE: ConditionEngine = createCelConditionEngine();
