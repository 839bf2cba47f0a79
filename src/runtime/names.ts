// Generated container names in Docker's shape, `adjective_surname`: a mood and a scientist, engineer or
// mathematician, from our own lists, so a generated name reads as Docker users expect one to.
import { randomBytes } from '../sys/random';

/** LEFT are the adjectives. */
export const LEFT: readonly string[] = [
  'able', 'agile', 'amused', 'ardent', 'artful', 'bright', 'brisk', 'calm', 'candid', 'careful', 'cheerful',
  'clever', 'cosmic', 'curious', 'daring', 'deft', 'diligent', 'dreamy', 'earnest', 'eager', 'elegant', 'fearless',
  'fond', 'frank', 'gentle', 'glad', 'graceful', 'hardy', 'hearty', 'honest', 'humble', 'jolly', 'keen', 'kind',
  'lively', 'loyal', 'lucid', 'merry', 'mellow', 'mindful', 'modest', 'nimble', 'noble', 'patient', 'placid',
  'playful', 'plucky', 'polite', 'proud', 'quick', 'quiet', 'radiant', 'rapid', 'ready', 'resolute', 'robust',
  'serene', 'sincere', 'smart', 'snappy', 'spry', 'steady', 'sturdy', 'sunny', 'swift', 'tidy', 'tranquil', 'upbeat',
  'valiant', 'vivid', 'warm', 'wise', 'witty', 'zesty',
];

/** RIGHT are the scientists, engineers and mathematicians. */
export const RIGHT: readonly string[] = [
  'abel', 'ampere', 'avogadro', 'backus', 'bernoulli', 'bohr', 'boole', 'born', 'boyle', 'cantor', 'cauchy',
  'cavendish', 'clausius', 'copernicus', 'corbato', 'coulomb', 'curie', 'dalton', 'darwin', 'dedekind', 'descartes',
  'dijkstra', 'dirac', 'doppler', 'eckert', 'einstein', 'erdos', 'euclid', 'euler', 'faraday', 'fermat', 'fermi',
  'feynman', 'fibonacci', 'fourier', 'franklin', 'fresnel', 'galileo', 'galois', 'gauss', 'gibbs', 'godel', 'hamming',
  'hardy', 'hawking', 'heaviside', 'hilbert', 'hoare', 'hooke', 'hopper', 'hubble', 'huffman', 'huygens', 'jacobi',
  'joule', 'kahan', 'kelvin', 'kepler', 'kernighan', 'knuth', 'kolmogorov', 'lagrange', 'lamport', 'laplace',
  'lavoisier', 'leibniz', 'lie', 'liskov', 'lorentz', 'lovelace', 'markov', 'maxwell', 'meitner', 'mendel',
  'minkowski', 'minsky', 'nash', 'newton', 'noether', 'nyquist', 'ohm', 'pascal', 'pasteur', 'pauli', 'planck',
  'poincare', 'ramanujan', 'riemann', 'ritchie', 'rutherford', 'schrodinger', 'shannon', 'sommerfeld', 'stokes',
  'tarjan', 'tesla', 'thompson', 'turing', 'volta', 'wallis', 'watt', 'weierstrass', 'wiener', 'wirth', 'yukawa',
  'zuse',
];

/** RandomIndex picks a whole number in [0, n). */
export type RandomIndex = (n: number) => number;

/** randomIndex draws from the kernel's generator; the modulo's bias over 32 bits is negligible for lists this short. */
export const randomIndex: RandomIndex = (n) => randomBytes(4).readUInt32LE(0) % n;

/** randomName is `left_right` and, from the first retry after a name collision on, a random digit
 * appended (`left_right3`), as Docker's daemon names containers. */
export function randomName(retry = 0, pick: RandomIndex = randomIndex): string {
  const name = `${LEFT[pick(LEFT.length)]}_${RIGHT[pick(RIGHT.length)]}`;
  return retry > 0 ? `${name}${pick(10)}` : name;
}

/** NAME_ATTEMPTS is how many generated names the daemon tries before it names a container by its short ID. */
export const NAME_ATTEMPTS = 6;
