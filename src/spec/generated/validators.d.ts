// Types of the validators that scripts/gen-validators.mjs generates into
// validators.js (not committed) from schemas/*.schema.json. Each function
// returns true or false and leaves ajv's error list in `.errors`.
import type { ValidateFunction } from 'ajv';

export declare const validateConfig: ValidateFunction;
export declare const validateState: ValidateFunction;
export declare const validateFeatures: ValidateFunction;
