import { MeshError } from '../errors.js';

/** A secret that could not be read from its store; the message names the secret, never its value. */
export type SecretErrorCode = 'SECRET_NOT_FOUND' | 'SECRET_FETCH_FAILED' | 'SECRET_NOT_A_STRING';
export class SecretError extends MeshError<SecretErrorCode> {}
