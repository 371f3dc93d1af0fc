/**
 * Runtime rules for limiters, shared by every instance of an application: a
 * {@link dev.ratelimit.rules.LimitRule} changes a limiter's rate or capacity until it is cleared,
 * and a {@link dev.ratelimit.rules.RuleBook} keeps the rules where all instances read them (on the
 * Kafka backend, a compacted topic: {@link dev.ratelimit.kafka.KafkaRuleBook}), so that a change
 * made on one instance reaches the others and survives restarts.
 */
package dev.ratelimit.rules;
