/** JMH benchmarks of Sieve's in-process code. */
package dev.sieve.bench;
